using Grpc.Core;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>A scripted failure of one call: the status and detail Qdrant would send, optionally only after the client's deadline.</summary>
internal sealed record FakeQdrantFault(StatusCode Status, string Detail, bool Hang);
