namespace Platform;

/// <summary>The text a service stores and shows to people. JSON escapes can carry what PostgreSQL text cannot hold
/// (NUL) and UTF-8 cannot encode (a lone surrogate); refusing them as field errors keeps them from becoming database
/// errors. Control characters and bidirectional overrides (which disguise "gpj.exe" as "exe.jpg") are refused too;
/// line breaks and tabs only where a field allows them.</summary>
public static class PlainText
{
    public static bool IsValid(string value, bool allowLineBreaks = false)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069') return false;
            if (char.IsControl(c) && !(allowLineBreaks && c is '\n' or '\r' or '\t')) return false;
        }
        return true;
    }
}
