using System.Text;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Console;

Console.OutputEncoding = Encoding.UTF8;
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C asks the command to stop cleanly; a second one ends the process.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        cancellation.Cancel();
    }
};

return await CliApplication.RunAsync(args, CliConsole.FromProcess(), cancellation.Token);
