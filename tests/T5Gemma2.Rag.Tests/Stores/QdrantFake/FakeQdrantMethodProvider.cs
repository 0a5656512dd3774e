using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// Binds every unary method of Qdrant's Collections, Points and Qdrant services to <see cref="FakeQdrantService"/>.
/// Qdrant.Client ships the services' descriptors (compiled from the same .proto files as its messages) but only the
/// client stubs, so the server side is bound here from those descriptors: method names, paths and message types are
/// exactly the client's, with no copy of the protos to drift.
/// </summary>
internal sealed class FakeQdrantMethodProvider : IServiceMethodProvider<FakeQdrantService>
{
    private static readonly MethodInfo s_add = typeof(FakeQdrantMethodProvider).GetMethod(nameof(AddUnary), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>The services the fake answers: what QdrantPassageStore calls.</summary>
    public static IReadOnlyList<ServiceDescriptor> Services { get; } =
    [
        CollectionsServiceReflection.Descriptor.Services.Single(),
        PointsServiceReflection.Descriptor.Services.Single(),
        QdrantReflection.Descriptor.Services.Single(),
    ];

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FakeQdrantService> context)
    {
        foreach (var method in Services.SelectMany(s => s.Methods).Where(m => !m.IsClientStreaming && !m.IsServerStreaming))
        {
            s_add.MakeGenericMethod(method.InputType.ClrType, method.OutputType.ClrType).Invoke(null, [context, method]);
        }
    }

    private static void AddUnary<TRequest, TResponse>(ServiceMethodProviderContext<FakeQdrantService> context, MethodDescriptor descriptor)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var parser = (MessageParser<TRequest>)descriptor.InputType.Parser;
        var method = new Method<TRequest, TResponse>(
            MethodType.Unary,
            descriptor.Service.FullName,
            descriptor.Name,
            Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom),
            Marshallers.Create<TResponse>(r => r.ToByteArray(), bytes => throw new NotSupportedException("the fake only writes responses")));
        string name = $"{descriptor.Service.Name}/{descriptor.Name}";
        context.AddUnaryMethod(method, [], async (service, request, call) => (TResponse)await service.HandleAsync(name, request, call).ConfigureAwait(false));
    }
}
