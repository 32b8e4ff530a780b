using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console.Cli;

namespace SpotDevBox.Hosting;

/// <summary>
/// Lets Spectre.Console.Cli register its commands into the Generic Host's container and resolve them
/// from it: the host is built when the command line has been parsed. Without <paramref name="validate"/> (--help)
/// the options are not validated: help needs none of them.
/// </summary>
internal sealed class TypeRegistrar(HostApplicationBuilder builder, bool validate = true) : ITypeRegistrar
{
    public IHost? Host { get; private set; }

    public ITypeResolver Build()
    {
        if (Host is null)
        {
            Host = builder.Build();
            // Invalid configuration stops every verb before it does anything (ValidateOnStart's checks,
            // run here because a CLI verb does not start the host's background services).
            if (validate)
            {
                Host.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
            }
        }

        return new Resolver(Host.Services);
    }

    // Spectre registers the command and settings types of the verbs, all in this assembly, which the native AOT
    // build roots whole (SpotDevBox.csproj): their constructors are kept.
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "The implementations are the verbs' command and settings types, in the rooted spotdevbox assembly.")]
    public void Register(Type service, Type implementation) => builder.Services.AddSingleton(service, implementation);

    public void RegisterInstance(Type service, object implementation) => builder.Services.AddSingleton(service, implementation);

    public void RegisterLazy(Type service, Func<object> factory) => builder.Services.AddSingleton(service, _ => factory());

    private sealed class Resolver(IServiceProvider services) : ITypeResolver
    {
        public object? Resolve(Type? type) => type is null ? null : services.GetService(type);
    }
}
