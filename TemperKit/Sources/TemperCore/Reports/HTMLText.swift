import Foundation

/// Text made safe for HTML and SVG: every value a report shows (folder names, metric keys, strategy
/// specs, settings) goes through `escape`, so a name like `a<b` or `"x"` cannot break the page.
public enum HTMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by their character references.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
