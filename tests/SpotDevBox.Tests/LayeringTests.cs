using System.Collections.Immutable;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace SpotDevBox.Tests;

/// <summary>
/// Commands sit on top: no type of the executable outside the SpotDevBox.Commands namespace uses one of its types,
/// except the command line itself (SpotDevBoxApp, which lists the verbs). Read from the compiled assembly (signatures,
/// base types, attributes and every method body's tokens), so a fully qualified name or a lambda cannot hide a use.
/// </summary>
public sealed class LayeringTests
{
    private const string Commands = "SpotDevBox.Commands";

    /// <summary>The types that may use the verbs: the command line that registers them (and what the compiler nests in it).</summary>
    private static readonly string[] Top = ["SpotDevBox.SpotDevBoxApp"];

    [Fact]
    public void TypesOutsideCommands_InTheExecutable_UseNoCommandsType()
    {
        var offenders = CommandsUsers(typeof(SpotDevBoxApp).Assembly.Location)
            .Where(t => !Top.Contains(t, StringComparer.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Empty(offenders);
    }

    [Fact]
    public void CommandsUsers_TheCommandLine_IsFound()
    {
        // The scan finds the one use that must be there: otherwise an empty answer above would prove nothing.
        Assert.Contains("SpotDevBox.SpotDevBoxApp", CommandsUsers(typeof(SpotDevBoxApp).Assembly.Location));
    }

    /// <summary>The top-level types outside <see cref="Commands"/> that reference a type inside it.</summary>
    private static HashSet<string> CommandsUsers(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var users = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in md.TypeDefinitions)
        {
            var (ns, name) = TopLevel(md, handle);
            if (InCommands(ns))
            {
                continue;
            }

            var used = new HashSet<TypeDefinitionHandle>();
            Collect(md, pe, handle, used);
            if (used.Any(u => InCommands(TopLevel(md, u).Namespace)))
            {
                users.Add(ns.Length == 0 ? name : ns + "." + name);
            }
        }

        return users;
    }

    private static bool InCommands(string ns) => ns == Commands || ns.StartsWith(Commands + ".", StringComparison.Ordinal);

    private static (string Namespace, string Name) TopLevel(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        while (type.GetDeclaringType() is { IsNil: false } outer)
        {
            type = md.GetTypeDefinition(outer);
        }

        return (md.GetString(type.Namespace), md.GetString(type.Name));
    }

    private static void Collect(MetadataReader md, PEReader pe, TypeDefinitionHandle handle, HashSet<TypeDefinitionHandle> used)
    {
        var provider = new Collector(used);
        var type = md.GetTypeDefinition(handle);
        Entity(md, type.BaseType, used);
        foreach (var i in type.GetInterfaceImplementations())
        {
            Entity(md, md.GetInterfaceImplementation(i).Interface, used);
        }

        Attributes(md, type.GetCustomAttributes(), used);
        foreach (var f in type.GetFields())
        {
            var field = md.GetFieldDefinition(f);
            field.DecodeSignature(provider, null);
            Attributes(md, field.GetCustomAttributes(), used);
        }

        foreach (var p in type.GetProperties())
        {
            Attributes(md, md.GetPropertyDefinition(p).GetCustomAttributes(), used);
        }

        foreach (var m in type.GetMethods())
        {
            var method = md.GetMethodDefinition(m);
            method.DecodeSignature(provider, null);
            Attributes(md, method.GetCustomAttributes(), used);
            if (method.RelativeVirtualAddress == 0)
            {
                continue;
            }

            var body = pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
            {
                md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(provider, null);
            }

            foreach (var token in Tokens(body.GetILReader()))
            {
                Entity(md, MetadataTokens.EntityHandle(token), used);
            }
        }
    }

    private static void Attributes(MetadataReader md, CustomAttributeHandleCollection attributes, HashSet<TypeDefinitionHandle> used)
    {
        foreach (var a in attributes)
        {
            Entity(md, md.GetCustomAttribute(a).Constructor, used);
        }
    }

    /// <summary>The types of this assembly that a token (a type, a method, a field, an instantiation) names.</summary>
    private static void Entity(MetadataReader md, EntityHandle handle, HashSet<TypeDefinitionHandle> used)
    {
        if (handle.IsNil)
        {
            return;
        }

        var provider = new Collector(used);
        switch (handle.Kind)
        {
            case HandleKind.TypeDefinition:
                used.Add((TypeDefinitionHandle)handle);
                break;
            case HandleKind.TypeSpecification:
                md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(provider, null);
                break;
            case HandleKind.MethodDefinition:
                used.Add(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                break;
            case HandleKind.FieldDefinition:
                used.Add(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                break;
            case HandleKind.MemberReference:
                var member = md.GetMemberReference((MemberReferenceHandle)handle);
                Entity(md, member.Parent, used);
                if (member.GetKind() == MemberReferenceKind.Method)
                {
                    member.DecodeMethodSignature(provider, null);
                }
                else
                {
                    member.DecodeFieldSignature(provider, null);
                }

                break;
            case HandleKind.MethodSpecification:
                var spec = md.GetMethodSpecification((MethodSpecificationHandle)handle);
                Entity(md, spec.Method, used);
                spec.DecodeSignature(provider, null);
                break;
            default:
                break;
        }
    }

    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields()
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    /// <summary>The metadata tokens in a method body's instructions.</summary>
    private static List<int> Tokens(BlobReader il)
    {
        var tokens = new List<int>();
        while (il.RemainingBytes > 0)
        {
            short code = il.ReadByte();
            if (code == 0xFE)
            {
                code = unchecked((short)(0xFE00 | il.ReadByte()));
            }

            switch (Operands[code])
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    tokens.Add(il.ReadInt32());
                    break;
                case OperandType.InlineSwitch:
                    var targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.InlineSig or OperandType.InlineString or OperandType.ShortInlineR:
                    il.Offset += 4;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                default:
                    break;
            }
        }

        return tokens;
    }

    /// <summary>Decodes signatures only to note the types of this assembly they name.</summary>
    private sealed class Collector(HashSet<TypeDefinitionHandle> used) : ISignatureTypeProvider<bool, object?>
    {
        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => used.Add(handle) || true;

        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => true;

        public bool GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => true;

        public bool GetSZArrayType(bool elementType) => true;

        public bool GetArrayType(bool elementType, ArrayShape shape) => true;

        public bool GetByReferenceType(bool elementType) => true;

        public bool GetPointerType(bool elementType) => true;

        public bool GetPinnedType(bool elementType) => true;

        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => true;

        public bool GetGenericMethodParameter(object? genericContext, int index) => true;

        public bool GetGenericTypeParameter(object? genericContext, int index) => true;

        public bool GetFunctionPointerType(MethodSignature<bool> signature) => true;

        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => true;
    }
}
