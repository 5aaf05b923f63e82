/// Prepares raw bytes for the YAML parser: drops a leading BOM, turns CRLF and
/// lone CR into LF (line numbers stay right), and rejects invalid UTF-8 and the
/// control characters YAML forbids, so the parser never meets them.
enum YAMLInput {
    /// The parser reads a few bytes ahead without bounds checks; NUL marks the end
    /// (NUL itself is rejected here, so it can only be the end).
    static let sentinelCount = 4

    static func prepare(_ raw: [UInt8], file: String) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(raw.count + sentinelCount)
        var i = 0
        let n = raw.count
        if n >= 3, raw[0] == 0xEF, raw[1] == 0xBB, raw[2] == 0xBF { i = 3 }
        var line = 1
        var lineStart = i
        func fail(_ what: String) -> ParseError {
            ParseError(what, at: SourceLocation(file: file, line: line, column: i - lineStart + 1))
        }
        while i < n {
            let c = raw[i]
            if c < 0x80 {
                switch c {
                case 0x0A:
                    out.append(c); line += 1; lineStart = i + 1
                case 0x0D:
                    out.append(0x0A); line += 1
                    if i + 1 < n, raw[i + 1] == 0x0A { i += 1 }
                    lineStart = i + 1
                case 0x09, 0x20...0x7E:
                    out.append(c)
                default:
                    throw fail("control character 0x\(String(c, radix: 16, uppercase: true)) is not allowed in YAML; write it as an escape inside double quotes")
                }
                i += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch c {
            case 0xC2...0xDF: length = 2; scalar = UInt32(c & 0x1F)
            case 0xE0...0xEF: length = 3; scalar = UInt32(c & 0x0F)
            case 0xF0...0xF4: length = 4; scalar = UInt32(c & 0x07)
            default: throw fail("invalid UTF-8 byte 0x\(String(c, radix: 16, uppercase: true)); the file must be UTF-8")
            }
            guard i + length <= n else { throw fail("truncated UTF-8 sequence at the end of the input") }
            for k in 1..<length {
                let cc = raw[i + k]
                guard cc & 0xC0 == 0x80 else { throw fail("invalid UTF-8 sequence; the file must be UTF-8") }
                scalar = scalar << 6 | UInt32(cc & 0x3F)
            }
            let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
                throw fail("invalid UTF-8 sequence; the file must be UTF-8")
            }
            if (0x80...0x9F).contains(scalar) && scalar != 0x85 || scalar == 0xFFFE || scalar == 0xFFFF {
                throw fail("character U+\(String(scalar, radix: 16, uppercase: true)) is not allowed in YAML; write it as an escape inside double quotes")
            }
            out.append(contentsOf: raw[i..<i + length])
            i += length
        }
        out.append(contentsOf: repeatElement(0, count: sentinelCount))
        return out
    }
}
