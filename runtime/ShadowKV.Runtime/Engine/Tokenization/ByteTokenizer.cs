using System.Text;

namespace ShadowKV.Runtime.Engine.Tokenization;

/// <summary>
/// A tokenizer that needs no file, for the built-in random model: id 0 = unknown, 1 = BOS, 2 = EOS, 3 … 258 = the
/// bytes of UTF-8 text (shown as <0xNN> when not printable ASCII); ids above that (up to the model's vocabulary) stand for printable ASCII letters so every
/// sampled id shows as something.
/// </summary>
public sealed class ByteTokenizer(int vocabSize) : ITextTokenizer
{
    private const int FirstByte = 3;

    public int VocabSize { get; } = vocabSize > FirstByte + 256 ? vocabSize : throw new ArgumentOutOfRangeException(nameof(vocabSize), $"A byte tokenizer needs more than {FirstByte + 256} ids.");

    public int? BosId => 1;

    public IReadOnlyList<int> EosIds { get; } = [2];

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        var ids = new List<int>();
        if (addBos)
        {
            ids.Add(1);
        }

        ids.AddRange(Encoding.UTF8.GetBytes(text).Select(b => FirstByte + b));
        return ids;
    }

    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString(ids.SelectMany(id => TokenBytes(id).ToArray()).ToArray());

    // A random model samples arbitrary bytes: control bytes and stray UTF-8 continuation bytes would garble the
    // terminal, so bytes outside printable ASCII show as <0xNN> (only text the user typed round-trips as UTF-8).
    public ReadOnlySpan<byte> TokenBytes(int id) =>
        id < FirstByte ? ReadOnlySpan<byte>.Empty
        : id < FirstByte + 256 ? Printable((byte)(id - FirstByte))
        : new[] { (byte)('a' + (id - FirstByte - 256) % 26) };

    private static byte[] Printable(byte value) =>
        value is >= 0x20 and < 0x7f or (byte)'\n' ? [value] : Encoding.ASCII.GetBytes($"<0x{value:X2}>");

    public bool IsSpecial(int id) => id < FirstByte;

    public int? TokenToId(string token) => token switch
    {
        "<unk>" => 0,
        "<s>" => 1,
        "</s>" => 2,
        _ => Encoding.UTF8.GetBytes(token) is [byte b] ? FirstByte + b : null,
    };

    public TokenStreamDecoder CreateStreamDecoder() => new(this, stripLeadingSpace: false);
}
