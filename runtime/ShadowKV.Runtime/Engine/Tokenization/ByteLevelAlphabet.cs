using System.Collections.Generic;

namespace ShadowKV.Runtime.Engine.Tokenization;

// GPT-2's bytes_to_unicode: byte-level BPE vocabularies spell every byte as a printable character. Printable
// Latin-1 bytes stand for themselves; the rest (controls, space, 0x7F-0xA0, 0xAD) map to U+0100 onwards in order.
internal static class ByteLevelAlphabet
{
    private static readonly Dictionary<char, byte> CharToByte = Build();

    public static byte[] ToBytes(string token, string path)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            bytes[i] = CharToByte.TryGetValue(token[i], out byte b)
                ? b
                : throw new TokenizerException(path, $"vocab token '{token}' has character U+{(int)token[i]:X4}, which is not in the byte-level alphabet.");
        }

        return bytes;
    }

    private static Dictionary<char, byte> Build()
    {
        var map = new Dictionary<char, byte>();
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? (char)b : (char)next++] = (byte)b;
        }

        return map;
    }
}
