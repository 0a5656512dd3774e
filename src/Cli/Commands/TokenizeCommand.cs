using System.CommandLine;
using System.Text.Json;
using T5Gemma2.Rag.Cli.Console;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag tokenize</c>: ids of one text, or of each <c>{"text": ...}</c> line on stdin with <c>--jsonl</c>.</summary>
internal static class TokenizeCommand
{
    public static Command Create(CliConsole console)
    {
        var tokenizerOption = new Option<string>("--tokenizer", "-t") { Description = "A tokenizer.json, or a model directory", Required = true };
        var bosOption = new Option<bool>("--bos") { Description = "Put the model's special tokens first (<bos> for Gemma; [CLS] ... [SEP] for BERT)" };
        var jsonlOption = new Option<bool>("--jsonl") { Description = "Read {\"text\": ...} lines on stdin, write {\"ids\": [...]} lines on stdout, in order" };
        var textArgument = new Argument<string?>("text") { Description = "The text to tokenize (omit with --jsonl)", Arity = ArgumentArity.ZeroOrOne };

        var command = new Command("tokenize", "Print the token ids of a text and their count") { tokenizerOption, bosOption, jsonlOption, textArgument };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var tokenizer = TokenizerSource.Load(parse.GetValue(tokenizerOption)!);
            bool bos = parse.GetValue(bosOption);
            if (parse.GetValue(jsonlOption))
            {
                return await TokenizeLinesAsync(console, tokenizer, bos, cancellationToken);
            }

            string? text = parse.GetValue(textArgument);
            if (text is null)
            {
                await console.Error.WriteLineAsync("t5rag tokenize: give a text argument, or --jsonl to read lines from stdin.");
                return ExitCodes.UsageError;
            }

            var ids = TokenizerSource.Encode(tokenizer, text, bos);
            await console.Out.WriteLineAsync(CliJson.Serialize(ids));
            await console.Out.WriteLineAsync($"{ids.Count} tokens");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The string of a JSON field. A "\ud800" escape with no partner is legal JSON but not a .NET string the reader will
    /// return; it is unescaped by hand and reaches the tokenizer as the lone surrogate it is (read as U+FFFD).
    /// </summary>
    private static string ReadString(JsonElement field)
    {
        try
        {
            return field.GetString()!;
        }
        catch (InvalidOperationException)
        {
            string raw = field.GetRawText();
            return System.Text.RegularExpressions.Regex.Unescape(raw[1..^1]);
        }
    }

    /// <summary>One output line per input line, so outputs stay aligned; a bad line gets an {"error": ...} line and a note on stderr.</summary>
    private static async Task<int> TokenizeLinesAsync(CliConsole console, Microsoft.ML.Tokenizers.Tokenizer tokenizer, bool bos, CancellationToken cancellationToken)
    {
        int lineNumber = 0, bad = 0;
        while (await console.In.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            string? text = null;
            string? problem = null;
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("text", out var field) || field.ValueKind != JsonValueKind.String)
                {
                    problem = "expected an object with a string field \"text\"";
                }
                else
                {
                    text = ReadString(field);
                }
            }
            catch (JsonException ex)
            {
                problem = $"not valid JSON ({ex.Message.Split('.')[0]})";
            }

            if (text is null)
            {
                bad++;
                await console.Error.WriteLineAsync($"stdin line {lineNumber}: {problem}");
                await console.Out.WriteLineAsync(CliJson.Serialize(new { error = $"line {lineNumber}: {problem}" }));
                continue;
            }

            await console.Out.WriteLineAsync(CliJson.Serialize(new { ids = TokenizerSource.Encode(tokenizer, text, bos) }));
        }

        await console.Error.WriteLineAsync($"tokenized {lineNumber - bad} of {lineNumber} lines{(bad > 0 ? $", {bad} bad" : "")}");
        return bad > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;
    }
}
