using T5Gemma2.Rag.Tests.Infrastructure;

[assembly: AssemblyFixture(typeof(SharedGemmaTokenizer))]
[assembly: AssemblyFixture(typeof(SharedMiniLm))]
[assembly: AssemblyFixture(typeof(SharedTinyT5Gemma2))]
[assembly: AssemblyFixture(typeof(SharedTinySentenceTransformers))]
