Console.WriteLine("t5rag");
