using Grpc.Core;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// A scripted failure of one call: the status and detail Qdrant would send; with <paramref name="Hang"/> only after
/// the client's deadline; with <paramref name="Applied"/> after the request took effect (a reply lost on the way back).
/// </summary>
internal sealed record FakeQdrantFault(StatusCode Status, string Detail, bool Hang, bool Applied);
