using System.ClientModel.Primitives;

namespace T5Gemma2.Rag.Server.Answering;

/// <summary>Removes the Authorization header the OpenAI client always adds, for an endpoint given no key.</summary>
internal sealed class WithoutAuthorizationPolicy : PipelinePolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Remove("Authorization");
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Remove("Authorization");
        return ProcessNextAsync(message, pipeline, currentIndex);
    }
}
