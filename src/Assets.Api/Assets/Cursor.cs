using System.Buffers.Text;

namespace Assets.Api.Assets;

/// <summary>Opaque keyset cursor: the last id of the previous page, base64url-encoded (as Catalog's). Clients must
/// not build it; the encoding may change without notice.</summary>
public static class Cursor
{
    public static string Encode(Guid lastId)
    {
        Span<byte> bytes = stackalloc byte[16];
        lastId.TryWriteBytes(bytes, bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string? cursor, out Guid lastId)
    {
        lastId = Guid.Empty;
        if (string.IsNullOrEmpty(cursor) || cursor.Length != 22) return false;
        Span<byte> bytes = stackalloc byte[16];
        if (!Base64Url.IsValid(cursor) || Base64Url.DecodeFromChars(cursor, bytes) != 16) return false;
        lastId = new Guid(bytes, bigEndian: true);
        return true;
    }
}
