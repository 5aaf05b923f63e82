/// A host entry as inventories write it: `web[01:03].example.com:2222` names
/// web01..web03 on port 2222. Ranges are numeric (`[1:10]`, zero-padded when the
/// start is, an optional `:step`) or alphabetic (`[a:f]`); several may appear.
struct HostRange {
    var names: [String]
    var port: Int?

    struct Failure: Error, Equatable {
        var message: String
    }

    static func expand(_ entry: String) throws -> HostRange {
        let (pattern, port) = splitPort(entry)
        if port == nil, entry.hasSuffix(":") {
            throw Failure(message: "invalid host '\(entry)': a trailing ':' must be followed by a port number")
        }
        if pattern.pythonStripped() == "---" {
            throw Failure(message: "invalid host '---': this is a YAML document marker; is this file YAML with the wrong extension?")
        }
        let names = pattern.contains("[") ? try expandRanges(pattern) : [pattern]
        return HostRange(names: names, port: port)
    }

    /// `host:22` and `[v6::addr]:22` carry a port; a colon inside brackets belongs to a range.
    static func splitPort(_ entry: String) -> (String, Int?) {
        if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
            let inner = entry[entry.index(after: entry.startIndex)..<close]
            if inner.filter({ $0 == ":" }).count >= 2, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
                let rest = entry[entry.index(after: close)...]
                if rest.isEmpty { return (String(inner), nil) }
                if rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) { return (String(inner), port) }
                return (entry, nil)
            }
        }
        guard let colon = entry.lastIndex(of: ":") else { return (entry, nil) }
        let portText = entry[entry.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy(\.isASCIIDecimal), let port = Int(portText), port <= 65535 else {
            return (entry, nil)
        }
        let host = String(entry[..<colon])
        var depth = 0
        for c in host {
            if c == "[" { depth += 1 } else if c == "]" { depth -= 1 } else if c == ":", depth == 0 { return (entry, nil) }
        }
        return host.isEmpty || depth != 0 ? (entry, nil) : (host, port)
    }

    private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// Ansible's `expand_hostname_range`: expand the first `[...]`, then recurse on the rest.
    static func expandRanges(_ pattern: String) throws -> [String] {
        guard let open = pattern.firstIndex(of: "[") else { return [pattern] }
        guard let close = pattern[open...].firstIndex(of: "]") else {
            throw Failure(message: "host range in '\(pattern)' has no closing ']'")
        }
        let head = pattern[..<open]
        let body = pattern[pattern.index(after: open)..<close]
        let tail = pattern[pattern.index(after: close)...]
        let bounds = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw Failure(message: "host range [\(body)] must be begin:end or begin:end:step")
        }
        let begin = bounds[0].isEmpty ? "0" : bounds[0]
        let end = bounds[1]
        guard !end.isEmpty else { throw Failure(message: "host range [\(body)] must specify an end value") }
        var step = 1
        if bounds.count == 3 {
            guard let s = Int(bounds[2]), s > 0 else {
                throw Failure(message: "host range [\(body)] has step '\(bounds[2])'; the step must be a positive number")
            }
            step = s
        }
        var pieces: [String] = []
        if let b = Int(begin), let e = Int(end) {
            let width = begin.count > 1 && begin.hasPrefix("0") ? begin.count : 0
            if width > 0, end.count != width {
                throw Failure(message: "host range [\(body)] must specify equal-length begin and end formats (\(begin) has \(width) digits, \(end) has \(end.count))")
            }
            if b <= e {
                for n in stride(from: b, through: e, by: step) {
                    let digits = String(n)
                    pieces.append(width > digits.count ? String(repeating: "0", count: width - digits.count) + digits : digits)
                }
            }
        } else if begin.count == 1, end.count == 1,
                  let b = letters.firstIndex(of: Character(begin)), let e = letters.firstIndex(of: Character(end)) {
            guard b <= e else { throw Failure(message: "host range [\(body)] must have begin <= end") }
            for n in stride(from: b, through: e, by: step) { pieces.append(String(letters[n])) }
        } else {
            throw Failure(message: "host range [\(body)] must have numeric or single-letter bounds")
        }
        var names: [String] = []
        for piece in pieces {
            let name = String(head) + piece + String(tail)
            names.append(contentsOf: name.contains("[") ? try expandRanges(name) : [name])
        }
        return names
    }
}

extension Character {
    fileprivate var isASCIIDecimal: Bool { isASCII && isNumber }
}

extension StringProtocol {
    /// Python's `str.strip()` for the blanks inventories contain.
    func pythonStripped() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() }
        while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
