using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>
/// An ONNX Runtime session with several owners: a T5Gemma 2 encoder that both the generator and an embedding
/// generator run, so its weights are in memory once. The session, and what it was created from (an initializer
/// handed in by memory), are disposed when the last owner lets go.
/// </summary>
internal sealed class SharedSession
{
    private readonly IDisposable? _dependency;
    private int _owners = 1;

    /// <param name="dependency">Disposed after the session (ONNX Runtime reads shared initializers from it).</param>
    public SharedSession(InferenceSession session, IDisposable? dependency = null)
    {
        this.Session = session;
        this._dependency = dependency;
    }

    public InferenceSession Session { get; }

    /// <summary>One more owner; each calls <see cref="Release"/> once.</summary>
    /// <exception cref="ObjectDisposedException">Every owner has let go already.</exception>
    public SharedSession Acquire()
    {
        int owners;
        do
        {
            owners = Volatile.Read(ref this._owners);
            ObjectDisposedException.ThrowIf(owners == 0, this.Session);
        }
        while (Interlocked.CompareExchange(ref this._owners, owners + 1, owners) != owners);

        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref this._owners) == 0)
        {
            this.Session.Dispose();
            this._dependency?.Dispose();
        }
    }
}
