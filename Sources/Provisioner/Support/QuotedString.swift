/// A double-quoted string with JSON's escapes: `\"`, `\\`, `\b \t \n \f \r`, and `\uXXXX` for
/// the other control characters. Python's `json.dumps(ensure_ascii=False)` writes it with
/// lowercase hex; TOML's basic strings also escape DEL, and we write their hex in uppercase.
enum QuotedString {
    static func write(_ s: String, to out: inout String, uppercaseHex: Bool = false, escapingDelete: Bool = false) {
        func escape(_ scalar: Unicode.Scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: uppercaseHex)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            case "\u{00}"..."\u{1F}": escape(scalar)
            case "\u{7F}" where escapingDelete: escape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
