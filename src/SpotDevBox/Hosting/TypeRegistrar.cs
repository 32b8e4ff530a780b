using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console.Cli;

namespace SpotDevBox.Hosting;

/// <summary>
/// Lets Spectre.Console.Cli register its commands into the Generic Host's container and resolve them
/// from it: the host is built when the command line has been parsed.
/// </summary>
internal sealed class TypeRegistrar(HostApplicationBuilder builder) : ITypeRegistrar
{
    public IHost? Host { get; private set; }

    public ITypeResolver Build()
    {
        Host ??= builder.Build();
        return new Resolver(Host.Services);
    }

    public void Register(Type service, Type implementation) => builder.Services.AddSingleton(service, implementation);

    public void RegisterInstance(Type service, object implementation) => builder.Services.AddSingleton(service, implementation);

    public void RegisterLazy(Type service, Func<object> factory) => builder.Services.AddSingleton(service, _ => factory());

    private sealed class Resolver(IServiceProvider services) : ITypeResolver
    {
        public object? Resolve(Type? type) => type is null ? null : services.GetService(type);
    }
}
