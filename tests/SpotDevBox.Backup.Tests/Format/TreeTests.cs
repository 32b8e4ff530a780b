using System.Text;
using System.Text.Json;
using SpotDevBox.Backup.Format;

namespace SpotDevBox.Backup.Tests.Format;

public sealed class TreeTests
{
    private const string Sha256OfAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private static readonly BlobId SomeId = BlobId.Parse(Sha256OfAbc);

    [Theory]
    [InlineData("file.txt")]
    [InlineData("with space")]
    [InlineData(" leading and trailing ")]
    [InlineData(".hidden")]
    [InlineData("..hidden")]
    [InlineData("...")]
    [InlineData(".. ")]
    [InlineData("-rf")]
    [InlineData("a:b*c?d")]
    [InlineData("日本語のファイル")]
    [InlineData("Ünïcödé")]
    [InlineData("emoji 😀")]
    [InlineData("tab\there")]
    [InlineData("~")]
    public void Validate_PlainName_Accepted(string name)
    {
        var tree = new Tree([File(name), Dir(name + ".d"), Link(name + ".l", "../x")]);

        tree.Validate("/");
    }

    [Fact]
    public void Validate_EmptyTree_Accepted()
    {
        new Tree([]).Validate("/");
    }

    [Fact]
    public void Validate_NamesDifferingOnlyInCaseOrNormalization_Accepted()
    {
        // Linux names are bytes: "a"/"A" and NFC/NFD "é" are different entries.
        var tree = new Tree([File("a"), File("A"), File("\u00e9"), File("e\u0301")]);

        tree.Validate("/");
    }

    [Theory]
    [InlineData("", "''")]
    [InlineData(".", "'.'")]
    [InlineData("..", "'..'")]
    [InlineData("../escape", "'../escape'")]
    [InlineData("/tmp/x", "'/tmp/x'")]
    [InlineData("a/b", "'a/b'")]
    [InlineData("a/", "'a/'")]
    [InlineData("a\0b", "'a\\x00b'")]
    [InlineData("\0", "'\\x00'")]
    public void Validate_HostileName_ThrowsNamingEntryAndDirectory(string name, string quoted)
    {
        var tree = new Tree([File("fine"), File(name)]);

        var e = Assert.Throws<InvalidDataException>(() => tree.Validate("home/user"));

        Assert.Equal($"snapshot refused: entry name {quoted} in 'home/user' is not a plain file name", e.Message);
    }

    [Theory]
    [InlineData(NodeType.File)]
    [InlineData(NodeType.Dir)]
    [InlineData(NodeType.Symlink)]
    public void Validate_HostileNameOnAnyKind_Throws(NodeType type)
    {
        Node node = type switch
        {
            NodeType.File => File(".."),
            NodeType.Dir => Dir(".."),
            _ => Link("..", "/etc"),
        };

        Assert.Throws<InvalidDataException>(() => new Tree([node]).Validate("/"));
    }

    [Fact]
    public void Validate_SymlinkAndDirectoryOfTheSameName_ThrowsDuplicate()
    {
        // The classic escape: "d" -> /outside, then a directory "d" whose files would be written through the link.
        var tree = new Tree([Link("d", "/outside"), Dir("d")]);

        var e = Assert.Throws<InvalidDataException>(() => tree.Validate("work"));

        Assert.Equal("snapshot refused: duplicate entry 'd' in 'work'", e.Message);
    }

    [Fact]
    public void Validate_TwoFilesOfTheSameName_ThrowsDuplicate()
    {
        var e = Assert.Throws<InvalidDataException>(() => new Tree([File("x"), File("y"), File("x")]).Validate("/"));

        Assert.Contains("duplicate entry 'x' in '/'", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Node> InconsistentNodes => new()
    {
        { "a dir without subtree", new Node { Name = "n", Type = NodeType.Dir } },
        { "a dir with content", Dir("n") with { Content = [SomeId] } },
        { "a dir with a target", Dir("n") with { Target = "/etc" } },
        { "a file without content", new Node { Name = "n", Type = NodeType.File } },
        { "a file with a subtree", File("n") with { Subtree = SomeId } },
        { "a file with a target", File("n") with { Target = "/etc" } },
        { "a file with a negative size", File("n") with { Size = -1 } },
        { "a symlink without target", new Node { Name = "n", Type = NodeType.Symlink } },
        { "a symlink with an empty target", Link("n", "") },
        { "a symlink with NUL in its target", Link("n", "/etc\0x") },
        { "a symlink with content", Link("n", "/etc") with { Content = [SomeId] } },
        { "a symlink with a subtree", Link("n", "/etc") with { Subtree = SomeId } },
        { "an unknown node type", File("n") with { Type = (NodeType)7 } },
    };

    [Theory]
    [MemberData(nameof(InconsistentNodes))]
    public void Validate_InconsistentNode_ThrowsNamingEntry(string scenario, Node node)
    {
        ArgumentNullException.ThrowIfNull(node);

        var e = Assert.Throws<InvalidDataException>(() => new Tree([node]).Validate("src"));

        Assert.True(e.Message.StartsWith("snapshot refused: entry 'n' in 'src' is an inconsistent ", StringComparison.Ordinal), $"{scenario}: {e.Message}");
    }

    [Theory]
    [InlineData(0x1000u)]
    [InlineData(0x8000u | 0x1A4u)] // S_IFREG | 0644: file-type bits are not permission bits
    [InlineData(uint.MaxValue)]
    public void Validate_ModeBeyondPermissionBits_Throws(uint mode)
    {
        var e = Assert.Throws<InvalidDataException>(() => new Tree([File("n") with { Mode = mode }]).Validate("/"));

        Assert.Equal("snapshot refused: entry 'n' in '/' has invalid mode bits", e.Message);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0x1A4u)] // 0644
    [InlineData(0xFFFu)] // 07777: setuid, setgid, sticky and rwx for all
    public void Validate_PermissionBitsWithinTwelveBits_Accepted(uint mode)
    {
        new Tree([File("n") with { Mode = mode }]).Validate("/");
    }

    [Fact]
    public void Json_HandWrittenSnakeCaseTree_ReadsEveryField()
    {
        const string json = """
            {"nodes":[
              {"name":"notes.txt","type":"File","mode":420,"mtime_ns":1700000000123456789,"ctime_ns":5,"inode":42,"device":7,
               "links":2,"uid":1000,"gid":100,"user":"dev","group":"users","size":3,
               "content":["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],"changed_during_backup":true,"stale":true},
              {"name":"src","type":"Dir","mode":493,"subtree":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
              {"name":"link","type":"Symlink","target":"../elsewhere"}
            ]}
            """;

        var tree = JsonSerializer.Deserialize(json, FormatJson.Default.Tree)!;

        var file = tree.Nodes[0];
        Assert.Equal("notes.txt", file.Name);
        Assert.Equal(NodeType.File, file.Type);
        Assert.Equal(0x1A4u, file.Mode);
        Assert.Equal(1700000000123456789L, file.MtimeNs);
        Assert.Equal(5L, file.CtimeNs);
        Assert.Equal(42UL, file.Inode);
        Assert.Equal(7UL, file.Device);
        Assert.Equal(2UL, file.Links);
        Assert.Equal(1000u, file.Uid);
        Assert.Equal(100u, file.Gid);
        Assert.Equal("dev", file.User);
        Assert.Equal("users", file.Group);
        Assert.Equal(3L, file.Size);
        Assert.Equal(SomeId, Assert.Single(file.Content!));
        Assert.True(file.ChangedDuringBackup);
        Assert.True(file.Stale);
        Assert.Equal(NodeType.Dir, tree.Nodes[1].Type);
        Assert.Equal(SomeId, tree.Nodes[1].Subtree);
        Assert.Equal("../elsewhere", tree.Nodes[2].Target);
        tree.Validate("/");
    }

    [Fact]
    public void Json_Symlink_WrittenInSnakeCaseWithoutNulls()
    {
        var tree = new Tree([new Node { Name = "l", Type = NodeType.Symlink, Mode = 0x1FF, MtimeNs = 12, Target = "/etc" }]);

        var json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(tree, FormatJson.Default.Tree));

        Assert.Equal(
            """{"nodes":[{"name":"l","type":"Symlink","mode":511,"mtime_ns":12,"uid":0,"gid":0,"size":0,"target":"/etc","changed_during_backup":false,"stale":false}]}""",
            json);
    }

    [Fact]
    public void Json_Version1NodeWithIdentity_ReadWithItsHardLinkFields()
    {
        // As version 1 wrote a file with a second name: the identity fields are read, never written again.
        const string json = """{"nodes":[{"name":"f","type":"File","mode":420,"mtime_ns":12,"ctime_ns":13,"inode":14,"device":15,"links":2,"uid":0,"gid":0,"size":0,"content":[],"changed_during_backup":false,"stale":false}]}""";

        var node = Assert.Single(JsonSerializer.Deserialize(json, FormatJson.Default.Tree)!.Nodes);

        Assert.Equal((13L, 14UL, 15UL, 2UL, null), (node.CtimeNs, node.Inode, node.Device, node.Links, node.Link));
        Assert.Equal(
            """{"nodes":[{"name":"f","type":"File","mode":420,"mtime_ns":12,"uid":0,"gid":0,"size":0,"content":[],"changed_during_backup":false,"stale":false}]}""",
            Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(new Tree([node with { CtimeNs = 0, Inode = 0, Device = 0, Links = 0 }]), FormatJson.Default.Tree)));
    }

    [Fact]
    public void Json_HostileNamesSurviveTheRoundTrip_SoValidateSeesThem()
    {
        // JSON escapes must not launder a name: "\u0000" and "\/" decode to what Validate refuses.
        const string json = """{"nodes":[{"name":"a\u0000b","type":"Symlink","target":"x"},{"name":"..\/x","type":"Symlink","target":"y"}]}""";

        var tree = JsonSerializer.Deserialize(json, FormatJson.Default.Tree)!;

        Assert.Equal("a\0b", tree.Nodes[0].Name);
        Assert.Equal("../x", tree.Nodes[1].Name);
        Assert.Throws<InvalidDataException>(() => tree.Validate("/"));
    }

    private static Node File(string name) => new() { Name = name, Type = NodeType.File, Mode = 0x1A4, Size = 3, Content = [SomeId] };

    private static Node Dir(string name) => new() { Name = name, Type = NodeType.Dir, Mode = 0x1ED, Subtree = SomeId };

    private static Node Link(string name, string target) => new() { Name = name, Type = NodeType.Symlink, Mode = 0x1FF, Target = target };
}
