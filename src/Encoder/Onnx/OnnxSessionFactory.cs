using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>
/// Creates ONNX Runtime sessions from <see cref="OnnxSessionOptions"/>, with errors that name the graph file. Every
/// session the project makes goes through here, so none runs on ONNX Runtime's own thread default.
/// </summary>
public static class OnnxSessionFactory
{
    /// <param name="configure">Further settings for this session (shared initializers, config entries).</param>
    public static InferenceSession Create(string graphPath, OnnxSessionOptions options, Action<SessionOptions>? configure = null)
    {
        if (!File.Exists(graphPath))
        {
            throw new ModelFileException(graphPath, "not found; expected an ONNX graph.");
        }

        var sessionOptions = CreateSessionOptions(options);
        try
        {
            if (options.Device == ExecutionDevice.Cuda)
            {
                AppendCuda(sessionOptions, options.DeviceId);
            }

            configure?.Invoke(sessionOptions);

            return new InferenceSession(graphPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFileException(graphPath, $"ONNX Runtime cannot load it ({FirstLine(ex.Message)}); expected a valid ONNX graph.", ex);
        }
        finally
        {
            // The session copies what it needs at construction.
            sessionOptions.Dispose();
        }
    }

    /// <summary>
    /// The ONNX Runtime settings every session of this project is created with. The intra-op thread count is always set
    /// from <paramref name="options"/>, never left to ONNX Runtime's default (0), which used one core of two here.
    /// </summary>
    internal static SessionOptions CreateSessionOptions(OnnxSessionOptions options)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            EnableCpuMemArena = options.EnableMemoryArena,
            EnableMemoryPattern = options.EnableMemoryPattern,
        };
        if (options.ProfileFilePrefix is { } prefix)
        {
            // The prefix first: enabling reads it.
            sessionOptions.ProfileOutputPathPrefix = prefix;
            sessionOptions.EnableProfiling = true;
        }

        return sessionOptions;
    }

    private static void AppendCuda(SessionOptions sessionOptions, int deviceId)
    {
        try
        {
            sessionOptions.AppendExecutionProvider_CUDA(deviceId);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw new ExecutionProviderUnavailableException(
                $"CUDA was requested but is not available ({FirstLine(ex.Message)}); install the Microsoft.ML.OnnxRuntime.Gpu package with a matching CUDA runtime, or use the CPU.", ex);
        }
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
