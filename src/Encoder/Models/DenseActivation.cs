namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>The activation after a sentence-transformers Dense module's linear map, as its config names it.</summary>
public enum DenseActivation
{
    /// <summary><c>torch.nn.modules.linear.Identity</c>.</summary>
    Identity,

    /// <summary><c>torch.nn.modules.activation.Tanh</c>; also what sentence-transformers uses when the config names none.</summary>
    Tanh,

    /// <summary><c>torch.nn.modules.activation.ReLU</c>.</summary>
    Relu,

    /// <summary><c>torch.nn.modules.activation.Sigmoid</c>.</summary>
    Sigmoid,

    /// <summary><c>torch.nn.modules.activation.GELU</c>, the exact (erf) form: the name cannot carry the tanh approximation.</summary>
    Gelu,
}
