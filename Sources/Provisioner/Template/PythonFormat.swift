import Foundation

/// Python's string formatting: `'%s-%d' % (a, b)` (the `format` filter) and `'{}'.format(x)`.
enum PythonFormat {
    // MARK: printf-style

    /// `format % arguments`. A list counts as a tuple of arguments when `tuple` is set or
    /// the format has other than one conversion (Jinja tuples arrive here as lists).
    static func percent(_ format: String, _ arguments: Value, at offset: Int?, tuple: Bool = false) throws -> String {
        let f = Array(format.unicodeScalars)
        var conversions = 0
        var k = 0
        while k < f.count {
            if f[k] == "%" {
                if k + 1 < f.count, f[k + 1] == "%" { k += 2; continue }
                conversions += 1
            }
            k += 1
        }
        var queue: [Value]
        var mapping: ValueDict?
        switch arguments {
        case .list(let items) where tuple || conversions != 1: queue = items
        case .dict(let d): queue = [arguments]; mapping = d
        default: queue = [arguments]
        }
        var out = String.UnicodeScalarView()
        var i = 0
        func fail(_ message: String) -> TemplateError { TemplateError(message, at: offset) }
        while i < f.count {
            let c = f[i]
            i += 1
            guard c == "%" else { out.append(c); continue }
            guard i < f.count else { throw fail("incomplete format") }
            var argument: Value?
            if f[i] == "(" {
                guard let close = f[i...].firstIndex(of: ")") else { throw fail("incomplete format key") }
                let key = String(String.UnicodeScalarView(f[(i + 1)..<close]))
                guard let mapping else { throw fail("format requires a mapping") }
                guard let v = mapping[key] else { throw fail("KeyError: \(Value.string(key).pythonRepr)") }
                argument = v
                i = close + 1
            }
            var flags = ""
            while i < f.count, "-+ 0#".unicodeScalars.contains(f[i]) { flags.unicodeScalars.append(f[i]); i += 1 }
            var width = ""
            while i < f.count, f[i].properties.numericType == .decimal, f[i].isASCII { width.unicodeScalars.append(f[i]); i += 1 }
            var precision: String?
            if i < f.count, f[i] == "." {
                i += 1
                var p = ""
                while i < f.count, f[i].properties.numericType == .decimal, f[i].isASCII { p.unicodeScalars.append(f[i]); i += 1 }
                precision = p.isEmpty ? "0" : p
            }
            while i < f.count, "hlL".unicodeScalars.contains(f[i]) { i += 1 }
            guard i < f.count else { throw fail("incomplete format") }
            let type = f[i]
            i += 1
            if type == "%" { out.append("%"); continue }
            if argument == nil {
                guard !queue.isEmpty, mapping == nil || queue.count == 1 else { throw fail("not enough arguments for format string") }
                argument = mapping == nil ? queue.removeFirst() : queue[0]
            }
            guard let value = argument else { throw fail("not enough arguments for format string") }
            out.append(contentsOf: try convert(value, type: type, flags: flags, width: Int(width), precision: precision.flatMap { Int($0) }, fail: fail).unicodeScalars)
        }
        if mapping == nil, !queue.isEmpty { throw fail("not all arguments converted during string formatting") }
        return String(out)
    }

    static func convert(_ value: Value, type: Unicode.Scalar, flags: String, width: Int?, precision: Int?,
                        fail: (String) -> TemplateError) throws -> String {
        let left = flags.contains("-")
        func pad(_ s: String, zero: Bool = false) -> String {
            let length = PythonString.length(s)
            guard let width, width > length else { return s }
            let fill = String(repeating: zero && !left ? "0" : " ", count: width - length)
            if left { return s + fill }
            if zero, let sign = s.unicodeScalars.first, sign == "-" || sign == "+" || sign == " " {
                return String(sign) + fill + String(s.unicodeScalars.dropFirst())
            }
            return zero ? fill + s : fill + s
        }
        func signed(_ s: String, negative: Bool) -> String {
            negative ? "-" + s : flags.contains("+") ? "+" + s : flags.contains(" ") ? " " + s : s
        }
        let zero = flags.contains("0")
        switch type {
        case "s", "r", "a":
            var s = type == "s" ? value.pythonText : value.pythonRepr
            if let precision { s = String(String.UnicodeScalarView(s.unicodeScalars.prefix(precision))) }
            return pad(s)
        case "d", "i", "u":
            guard let n = value.pythonNumber else { throw fail("%\(type) format: a real number is required, not \(value.typeName)") }
            let i: Int
            switch n {
            case .int(let x): i = x
            case .float(let d):
                guard let t = PythonNumbers.truncate(d) else { throw fail("cannot convert float to integer") }
                i = t
            }
            return pad(signed(String(i.magnitude), negative: i < 0), zero: zero)
        case "x", "X", "o":
            guard case .int(let i)? = value.pythonNumber else { throw fail("%\(type) format: an integer is required, not \(value.typeName)") }
            var digits = String(i.magnitude, radix: type == "o" ? 8 : 16, uppercase: type == "X")
            if flags.contains("#") { digits = (type == "o" ? "0o" : type == "x" ? "0x" : "0X") + digits }
            return pad(signed(digits, negative: i < 0), zero: zero)
        case "e", "E", "f", "F", "g", "G":
            guard let d = value.pythonNumber?.double else { throw fail("must be real number, not \(value.typeName)") }
            if !d.isFinite {
                let s = d.isNaN ? "nan" : "inf"
                return pad(signed(type.properties.isUppercase ? s.uppercased() : s, negative: d < 0))
            }
            var spec = "%"
            if flags.contains("#") { spec += "#" }
            spec += ".\(precision ?? 6)" + String(type)
            return pad(signed(String(format: spec, d.magnitude), negative: d.sign == .minus), zero: zero)
        case "c":
            switch value {
            case .string(let s) where PythonString.length(s) == 1: return pad(s)
            case .int(let i):
                guard let scalar = Unicode.Scalar(UInt32(clamping: max(i, 0))) else { throw fail("%c arg not in range(0x110000)") }
                return pad(String(scalar))
            default: throw fail("%c requires int or char")
            }
        default:
            throw fail("unsupported format character '\(type)'")
        }
    }

    // MARK: str.format

    /// `'{} and {name}'.format(a, name=b)`, with `{0}`, `{0.key}`, `{0[key]}`, `!r` and format specs.
    static func format(_ template: String, positional: [Value], keywords: ValueDict) throws -> String {
        let t = Array(template.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var automatic = 0
        while i < t.count {
            let c = t[i]
            if c == "}" {
                guard i + 1 < t.count, t[i + 1] == "}" else { throw TemplateError("Single '}' encountered in format string") }
                out.append("}")
                i += 2
                continue
            }
            guard c == "{" else { out.append(c); i += 1; continue }
            if i + 1 < t.count, t[i + 1] == "{" { out.append("{"); i += 2; continue }
            guard let close = t[i...].firstIndex(of: "}") else { throw TemplateError("Single '{' encountered in format string") }
            let field = String(String.UnicodeScalarView(t[(i + 1)..<close]))
            i = close + 1
            var spec = ""
            var reference = field
            if let colon = field.firstIndex(of: ":") {
                spec = String(field[field.index(after: colon)...])
                reference = String(field[..<colon])
            }
            var conversion: Character?
            if let bang = reference.firstIndex(of: "!") {
                conversion = reference[reference.index(after: bang)...].first
                reference = String(reference[..<bang])
            }
            var value = try resolveField(reference, positional: positional, keywords: keywords, automatic: &automatic)
            if conversion == "r" || conversion == "a" { value = .string(value.pythonRepr) } else if conversion == "s" { value = .string(value.pythonText) }
            out.append(contentsOf: try applySpec(spec, to: value).unicodeScalars)
        }
        return String(out)
    }

    static func resolveField(_ reference: String, positional: [Value], keywords: ValueDict, automatic: inout Int) throws -> Value {
        var head = reference
        var rest = ""
        if let cut = reference.firstIndex(where: { $0 == "." || $0 == "[" }) {
            head = String(reference[..<cut])
            rest = String(reference[cut...])
        }
        var value: Value
        if head.isEmpty {
            guard automatic < positional.count else { throw TemplateError("Replacement index \(automatic) out of range for positional args tuple") }
            value = positional[automatic]
            automatic += 1
        } else if let index = Int(head) {
            guard index >= 0, index < positional.count else { throw TemplateError("Replacement index \(index) out of range for positional args tuple") }
            value = positional[index]
        } else {
            guard let v = keywords[head] else { throw TemplateError("KeyError: \(Value.string(head).pythonRepr)") }
            value = v
        }
        var scanner = Substring(rest)
        while let first = scanner.first {
            scanner = scanner.dropFirst()
            let key: String
            if first == "." {
                let end = scanner.firstIndex { $0 == "." || $0 == "[" } ?? scanner.endIndex
                key = String(scanner[..<end])
                scanner = scanner[end...]
            } else {
                guard let end = scanner.firstIndex(of: "]") else { throw TemplateError("Missing ']' in format string") }
                key = String(scanner[..<end])
                scanner = scanner[scanner.index(after: end)...]
            }
            switch value {
            case .dict(let d) where d[key] != nil: value = d[key] ?? .null
            case .list(let l):
                guard let i = Int(key), let index = TemplateEvaluator.index(.int(i), count: l.count) else { throw TemplateError("list index out of range") }
                value = l[index]
            default: throw TemplateError("'\(value.typeName)' object has no attribute or key \(Value.string(key).pythonRepr)")
            }
        }
        return value
    }

    /// The format-spec mini-language: `[[fill]align][sign][#][0][width][,][.precision][type]`.
    static func applySpec(_ spec: String, to value: Value) throws -> String {
        if spec.isEmpty { return value.pythonText }
        var s = Array(spec.unicodeScalars)[...]
        var fill: Unicode.Scalar = " "
        var align: Unicode.Scalar?
        let aligns: [Unicode.Scalar] = ["<", ">", "^", "="]
        if s.count >= 2, aligns.contains(s[s.startIndex + 1]) {
            fill = s[s.startIndex]
            align = s[s.startIndex + 1]
            s = s.dropFirst(2)
        } else if let first = s.first, aligns.contains(first) {
            align = first
            s = s.dropFirst()
        }
        var sign = ""
        if let first = s.first, first == "+" || first == "-" || first == " " { sign = String(first); s = s.dropFirst() }
        if s.first == "#" { s = s.dropFirst() }
        if s.first == "0" {
            if align == nil { fill = "0"; align = "=" }
            s = s.dropFirst()
        }
        var width = ""
        while let d = s.first, d.isASCII, d.properties.numericType == .decimal { width.unicodeScalars.append(d); s = s.dropFirst() }
        var grouping = false
        if s.first == "," || s.first == "_" { grouping = true; s = s.dropFirst() }
        var precision: Int?
        if s.first == "." {
            s = s.dropFirst()
            var p = ""
            while let d = s.first, d.isASCII, d.properties.numericType == .decimal { p.unicodeScalars.append(d); s = s.dropFirst() }
            precision = Int(p)
        }
        let type = s.first.map(String.init) ?? ""
        guard s.count <= 1 else { throw TemplateError("Invalid format specifier '\(spec)'") }
        var body: String
        var isNumber = false
        var negative = false
        switch (type, value) {
        case ("", .string(let text)), ("s", .string(let text)):
            body = precision.map { String(String.UnicodeScalarView(text.unicodeScalars.prefix($0))) } ?? text
        case ("s", _):
            throw TemplateError("Unknown format code 's' for object of type '\(value.typeName)'")
        default:
            guard let number = value.pythonNumber else { throw TemplateError("Unknown format code '\(type)' for object of type '\(value.typeName)'") }
            isNumber = true
            negative = number.double.sign == .minus && !(number.double == 0 && type == "d")
            switch (type, number) {
            case ("", .int(let i)), ("d", .int(let i)), ("n", .int(let i)):
                body = String(i.magnitude)
                if grouping { body = group(body) }
            case ("x", .int(let i)), ("X", .int(let i)), ("o", .int(let i)), ("b", .int(let i)):
                body = String(i.magnitude, radix: type == "o" ? 8 : type == "b" ? 2 : 16, uppercase: type == "X")
            case ("", .float(let d)) where precision == nil:
                body = PythonFloat.repr(d.magnitude)
            case ("%", _):
                body = String(format: "%.\(precision ?? 6)f", number.double.magnitude * 100) + "%"
            case ("", _), ("f", _), ("F", _), ("e", _), ("E", _), ("g", _), ("G", _):
                let code = type.isEmpty ? "g" : type
                body = String(format: "%.\(precision ?? 6)\(code)", number.double.magnitude)
                if grouping, let point = body.firstIndex(where: { $0 == "." || $0 == "e" }) {
                    body = group(String(body[..<point])) + body[point...]
                } else if grouping {
                    body = group(body)
                }
            default:
                throw TemplateError("Unknown format code '\(type)' for object of type '\(value.typeName)'")
            }
        }
        let prefix = isNumber ? (negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : "") : ""
        let length = PythonString.length(prefix + body)
        let padding = max(0, (Int(width) ?? 0) - length)
        let fillText = String(repeating: String(fill), count: padding)
        switch align ?? (isNumber ? ">" : "<") {
        case "<": return prefix + body + fillText
        case "^":
            let leftCount = padding / 2
            return String(repeating: String(fill), count: leftCount) + prefix + body + String(repeating: String(fill), count: padding - leftCount)
        case "=": return prefix + fillText + body
        default: return fillText + prefix + body
        }
    }

    static func group(_ digits: String) -> String {
        var out = ""
        for (n, c) in digits.reversed().enumerated() {
            if n > 0, n % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
