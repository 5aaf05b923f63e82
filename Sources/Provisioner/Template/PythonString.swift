/// Python's `str` methods, working on UTF-8 bytes: a match of valid UTF-8 inside valid
/// UTF-8 always falls on code point boundaries, so byte search gives Python's results
/// (code points, not Swift's grapheme clusters) without Character-by-Character indexing.
extension PythonString {
    /// Byte offset of the first `needle` in `haystack` at or after `start`.
    static func find(_ needle: String, in haystack: String, from start: Int = 0) -> Int? {
        find(Array(needle.utf8), in: Array(haystack.utf8), from: start)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
        let n = needle.count, h = haystack.count
        guard n > 0 else { return start <= h ? start : nil }
        guard n <= h, start <= h - n else { return nil }
        let first = needle[0]
        var i = start
        while i <= h - n {
            if haystack[i] == first {
                var j = 1
                while j < n, haystack[i + j] == needle[j] { j += 1 }
                if j == n { return i }
            }
            i += 1
        }
        return nil
    }

    /// Byte offset of the last `needle` in `haystack`.
    static func findLast(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        let n = needle.count, h = haystack.count
        guard n <= h else { return nil }
        var i = h - n
        while i >= 0 {
            if Array(haystack[i..<(i + n)]) == needle { return i }
            i -= 1
        }
        return nil
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// `str.replace(old, new[, count])`.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int? = nil) -> String {
        var remaining = count.map { $0 < 0 ? Int.max : $0 } ?? Int.max
        if old.isEmpty {
            // Python inserts `new` before every code point and at the end.
            var out = String.UnicodeScalarView()
            let insert = new.unicodeScalars
            for c in s.unicodeScalars {
                if remaining > 0 { out.append(contentsOf: insert); remaining -= 1 }
                out.append(c)
            }
            if remaining > 0 { out.append(contentsOf: insert) }
            return String(out)
        }
        let bytes = Array(s.utf8), needle = Array(old.utf8), replacement = Array(new.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var start = 0
        while remaining > 0, let i = find(needle, in: bytes, from: start) {
            out.append(contentsOf: bytes[start..<i])
            out.append(contentsOf: replacement)
            start = i + needle.count
            remaining -= 1
        }
        if start == 0 { return s }
        out.append(contentsOf: bytes[start...])
        return String(decoding: out, as: UTF8.self)
    }

    /// `str.split(sep=None, maxsplit=-1)`; nil for an empty separator (Python's ValueError).
    static func split(_ s: String, separator: String?, maxSplit: Int = -1) -> [String]? {
        let bytes = Array(s.utf8)
        var parts: [String] = []
        var splits = maxSplit < 0 ? Int.max : maxSplit
        guard let separator else {
            // Runs of whitespace separate; leading and trailing whitespace yield nothing.
            let scalars = Array(s.unicodeScalars)
            var i = 0
            while i < scalars.count {
                while i < scalars.count, isSpace(scalars[i]) { i += 1 }
                guard i < scalars.count else { break }
                if splits == 0 {
                    var end = scalars.count
                    while end > i, isSpace(scalars[end - 1]) { end -= 1 }
                    parts.append(String(String.UnicodeScalarView(scalars[i..<end])))
                    break
                }
                let start = i
                while i < scalars.count, !isSpace(scalars[i]) { i += 1 }
                parts.append(String(String.UnicodeScalarView(scalars[start..<i])))
                splits -= 1
            }
            return parts
        }
        let needle = Array(separator.utf8)
        guard !needle.isEmpty else { return nil }
        var start = 0
        while splits > 0, let i = find(needle, in: bytes, from: start) {
            parts.append(string(bytes[start..<i]))
            start = i + needle.count
            splits -= 1
        }
        parts.append(string(bytes[start...]))
        return parts
    }

    /// `str.rsplit(sep=None, maxsplit=-1)`.
    static func rsplit(_ s: String, separator: String?, maxSplit: Int = -1) -> [String]? {
        guard maxSplit >= 0 else { return split(s, separator: separator, maxSplit: maxSplit) }
        let reversedText = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
        let reversedSeparator = separator.map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
        return split(reversedText, separator: reversedSeparator, maxSplit: maxSplit)?
            .reversed().map { String(String.UnicodeScalarView($0.unicodeScalars.reversed())) }
    }

    /// `str.strip([chars])`, `lstrip`, `rstrip`.
    static func strip(_ s: String, characters: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func strips(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isSpace(c) }
        let scalars = s.unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        if leading { while start < end, strips(scalars[start]) { start = scalars.index(after: start) } }
        if trailing {
            while end > start {
                let before = scalars.index(before: end)
                guard strips(scalars[before]) else { break }
                end = before
            }
        }
        return String(scalars[start..<end])
    }

    /// `str.splitlines(keepends)`: every line boundary Python knows.
    static func splitLines(_ s: String, keepEnds: Bool = false) -> [String] {
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        var iterator = Array(s.unicodeScalars)[...]
        while let c = iterator.popFirst() {
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                if keepEnds { line.append(c) }
                if c == "\r", iterator.first == "\n" {
                    iterator.removeFirst()
                    if keepEnds { line.append("\n") }
                }
                lines.append(String(line))
                line = String.UnicodeScalarView()
            default:
                line.append(c)
            }
        }
        if !line.isEmpty { lines.append(String(line)) }
        return lines
    }

    /// Number of code points: Python's `len(str)`.
    static func length(_ s: String) -> Int { s.unicodeScalars.count }

    /// Code point index of a byte offset.
    static func codePointIndex(ofByte offset: Int, in s: String) -> Int {
        var count = 0
        for (i, b) in s.utf8.enumerated() {
            if i >= offset { break }
            if b & 0xC0 != 0x80 { count += 1 }
        }
        return count
    }

    /// Python's `str.capitalize()`: first character upper case, the rest lower case.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// Jinja2's `title` filter: words start after whitespace, `-`, `(`, `{`, `[` or `<`.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty { out += capitalize(String(word)) }
            word = String.UnicodeScalarView()
        }
        for c in s.unicodeScalars {
            if isSpace(c) || "-({[<".unicodeScalars.contains(c) {
                flush()
                out.unicodeScalars.append(c)
            } else {
                word.append(c)
            }
        }
        flush()
        return out
    }

    /// Python's `str.title()`: a cased character after an uncased one starts a word.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased
            out += previousCased ? String(c).lowercased() : String(c).uppercased()
            previousCased = cased
        }
        return out
    }
}
