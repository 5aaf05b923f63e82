import Foundation

/// Python `re` pattern syntax in ICU's dialect, for every place that runs a playbook's
/// regular expression (template filters and tests, lineinfile).
public enum PythonRegexSyntax {
    /// Rewrites Python-only syntax into ICU's: `(?P<name>`, `(?P=name)`, `\Z`, inline flags
    /// ICU lacks, a literal `[` inside a class, braces that are not a repetition count (Python
    /// reads them literally, ICU refuses them), and `{,n}` (ICU wants `{0,n}`).
    public static func translate(_ pattern: String) -> String {
        let p = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var inClass = false
        func append(_ s: String) { out.append(contentsOf: s.unicodeScalars) }
        while i < p.count {
            let c = p[i]
            if c == "\\", i + 1 < p.count {
                let e = p[i + 1]
                if !inClass, e == "Z" { append("\\z") } else { out.append(c); out.append(e) }
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                if c == "[" { out.append("\\") }
                out.append(c)
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                out.append(c)
                i += 1
                // A `]` (or `^]`) right after the opening bracket is literal in Python.
                if i < p.count, p[i] == "^" { out.append("^"); i += 1 }
                if i < p.count, p[i] == "]" { append("\\]"); i += 1 }
            case "(" where i + 2 < p.count && p[i + 1] == "?" && p[i + 2] == "P":
                if i + 3 < p.count, p[i + 3] == "<" {
                    append("(?<")
                    i += 4
                } else if i + 3 < p.count, p[i + 3] == "=", let close = p[(i + 4)...].firstIndex(of: ")") {
                    append("\\k<" + String(String.UnicodeScalarView(p[(i + 4)..<close])) + ">")
                    i = close + 1
                } else {
                    out.append(c)
                    i += 1
                }
            case "(" where i + 1 < p.count && p[i + 1] == "?":
                // Inline flags ICU lacks (a: ASCII, L: locale, u: unicode) are dropped.
                var j = i + 2
                var flags = String.UnicodeScalarView()
                while j < p.count, "aiLmsux-".unicodeScalars.contains(p[j]) { flags.append(p[j]); j += 1 }
                if !flags.isEmpty, j < p.count, p[j] == ")" || p[j] == ":" {
                    let kept = String(flags).filter { !"aLu".contains($0) }
                    if kept.isEmpty || kept == "-" {
                        if p[j] == ")" { i = j + 1; continue }
                        append("(?:")
                    } else {
                        append("(?" + kept + String(p[j]))
                    }
                    i = j + 1
                } else {
                    out.append(c)
                    i += 1
                }
            case "{":
                if let end = quantifierEnd(p, from: i) {
                    if p[i + 1] == "," { append("{0") } else { out.append("{") }
                    out.append(contentsOf: p[(i + 1)...end])
                    i = end + 1
                } else {
                    append("\\{")
                    i += 1
                }
            case "}":
                append("\\}")
                i += 1
            default:
                out.append(c)
                i += 1
            }
        }
        return String(out)
    }

    /// The index of the `}` closing a `{m}`, `{m,}`, `{,n}` or `{m,n}` quantifier at `start`.
    private static func quantifierEnd(_ p: [Unicode.Scalar], from start: Int) -> Int? {
        var j = start + 1
        var digits = 0, comma = false
        while j < p.count {
            let c = p[j]
            if c == "}" { return digits > 0 ? j : nil }
            if c == ",", !comma { comma = true } else if c.isASCII, c.properties.numericType == .decimal { digits += 1 } else { return nil }
            j += 1
        }
        return nil
    }
}

/// One piece of a Python replacement template (`re.sub`'s repl, `Match.expand`'s template).
public enum PythonReplacementPart: Equatable, Sendable {
    case literal(String)
    case group(Int)
    case named(String)
}

/// Why a replacement template cannot be used; callers word it for their users.
public enum PythonReplacementError: Error, Equatable {
    case invalidGroup(Int)
    case missingGroupName
    case unknownGroupName(String)
    case badEscape(Character)
}

extension PythonRegexSyntax {
    /// Python's replacement template syntax: `\1`…`\99`, `\g<1>`, `\g<name>`, octal escapes
    /// (`\0`, `\0nn`, three octal digits), `\n \t \r \a \b \f \v \\`; other escaped letters
    /// are errors, other escaped characters stay as written (checked against ansible-core).
    public static func replacement(_ template: String, groupCount: Int,
                                   hasGroup: (String) -> Bool) throws -> [PythonReplacementPart] {
        let chars = Array(template)
        var parts: [PythonReplacementPart] = []
        var literal = ""
        var i = 0
        func reference(_ part: PythonReplacementPart) {
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            parts.append(part)
        }
        func group(_ index: Int) throws {
            guard index <= groupCount else { throw PythonReplacementError.invalidGroup(index) }
            reference(.group(index))
        }
        func isOctal(_ c: Character) -> Bool { ("0"..."7").contains(c) }
        while i < chars.count {
            let c = chars[i]
            guard c == "\\", i + 1 < chars.count else {
                literal.append(c)
                i += 1
                continue
            }
            let next = chars[i + 1]
            i += 2
            switch next {
            case "g":
                guard i < chars.count, chars[i] == "<", let close = chars[i...].firstIndex(of: ">") else {
                    throw PythonReplacementError.missingGroupName
                }
                let name = String(chars[(i + 1)..<close])
                if let index = Int(name) {
                    try group(index)
                } else if hasGroup(name) {
                    reference(.named(name))
                } else {
                    throw PythonReplacementError.unknownGroupName(name)
                }
                i = close + 1
            case "0":
                // "\0" starts an octal escape of up to three digits.
                var digits = "0"
                while digits.count < 3, i < chars.count, isOctal(chars[i]) { digits.append(chars[i]); i += 1 }
                literal.append(Character(Unicode.Scalar(UInt8(digits, radix: 8) ?? 0)))
            case "1"..."9":
                var digits = String(next)
                if i < chars.count, chars[i].isASCIIDigit {
                    // Three octal digits are a character; otherwise one or two digits are a group.
                    if i + 1 < chars.count, isOctal(next), isOctal(chars[i]), isOctal(chars[i + 1]),
                       let value = UInt8(String([next, chars[i], chars[i + 1]]), radix: 8) {
                        literal.append(Character(Unicode.Scalar(value)))
                        i += 2
                        continue
                    }
                    digits.append(chars[i])
                    i += 1
                }
                try group(Int(digits) ?? 0)
            case "n": literal += "\n"
            case "t": literal += "\t"
            case "r": literal += "\r"
            case "a": literal += "\u{07}"
            case "b": literal += "\u{08}"
            case "f": literal += "\u{0C}"
            case "v": literal += "\u{0B}"
            case "\\": literal += "\\"
            case let letter where letter.isASCII && letter.isLetter:
                throw PythonReplacementError.badEscape(letter)
            default:
                literal += "\\\(next)"
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }
}
