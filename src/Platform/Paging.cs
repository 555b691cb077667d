using System.Buffers.Text;
using System.Globalization;

namespace Platform;

/// <summary>One keyset page as a list endpoint was asked for it: <c>?limit=</c> (1–<see cref="MaxLimit"/>, default
/// <see cref="DefaultLimit"/>) and <c>?cursor=</c> (opaque: the last id of the previous page). Ids are UUID v7, so id
/// order is creation order and a page is one index range scan.</summary>
public readonly record struct PageRequest(int Limit, Guid? After)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    /// <summary>Rows to fetch: one more than the page, to know whether another page follows.</summary>
    public int Fetch => Limit + 1;

    /// <summary>Reads the two parameters; a bad one adds a field error naming it (and the page is not to be read).</summary>
    public static PageRequest Parse(string? limit, string? cursor, IDictionary<string, string[]> errors)
    {
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
            errors["limit"] = [$"limit is a whole number from 1 to {MaxLimit}."];
        Guid? after = null;
        if (cursor is not null)
        {
            if (Cursor.TryDecode(cursor, out var lastId)) after = lastId;
            else errors["cursor"] = ["The cursor is not valid; pass nextCursor from a previous page unchanged."];
        }
        return new PageRequest(pageSize, after);
    }

    /// <summary>The page's rows out of the <see cref="Fetch"/> fetched, and the cursor of the next page (null on the last).</summary>
    public (IReadOnlyList<T> Items, string? NextCursor) Of<T>(IReadOnlyList<T> rows, Func<T, Guid> id)
    {
        if (rows.Count <= Limit) return (rows, null);
        var items = rows.Take(Limit).ToList();
        return (items, Cursor.Encode(id(items[^1])));
    }
}

/// <summary>Opaque keyset cursor: the last id of the previous page, base64url-encoded. Clients must not build it;
/// the encoding may change without notice.</summary>
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
