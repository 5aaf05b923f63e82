import Foundation

/// The hosts a pattern selected, and the pieces of it that matched nothing (which
/// Ansible reports as a warning, not an error).
public struct HostSelection: Hashable, Sendable {
    public var hosts: [String]
    public var unmatchedPatterns: [String]
    /// Warnings to show, such as Ansible's "Could not match supplied host pattern, ignoring: web".
    public var warnings: [String]
}

/// A host pattern Ansible would refuse: a bad regex, an out-of-range subscript, a missing limit file.
public struct HostPatternError: Error, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Ansible's host patterns, for a play's `hosts:` and for `--limit`:
/// `all` or `*`; a host or group name; globs (`web*`, `db?.example.com`, `[ab]*`);
/// regexes (`~web\d+`, anchored at the start like Python's `re.match`); subscripts
/// (`web[0]`, `web[1:3]`, `web[-1]`); lists joined by `,` or `:`; `!x` to exclude;
/// `&x` to intersect. As in Ansible, plain parts apply first, then `&`, then `!`,
/// each in written order. `localhost`, `127.0.0.1` and `::1` select the implicit
/// localhost when the inventory lacks them.
extension Inventory {
    public func hosts(matching pattern: String, limit: String? = nil) throws -> HostSelection {
        try hosts(matching: [pattern], limit: limit.map { [$0] })
    }

    public func hosts(matching patterns: [String], limit: [String]? = nil) throws -> HostSelection {
        var unmatched: [String] = []
        var warnings: [String] = []
        var selected = try evaluate(patterns.flatMap(Inventory.splitHostPattern), unmatched: &unmatched, warnings: &warnings)
        var subset: [String] = []
        for part in (limit ?? []).flatMap(Inventory.splitHostPattern) {
            if part.hasPrefix("@") { subset.append(contentsOf: try Inventory.limitFile(String(part.dropFirst()))) } else { subset.append(part) }
        }
        // An empty limit limits nothing, as in Ansible.
        if !subset.isEmpty {
            let allowed = Set(try evaluate(subset, unmatched: &unmatched, warnings: &warnings))
            selected = selected.filter(allowed.contains)
        }
        let names = groupNames.filter { $0 != "all" && $0 != "ungrouped" } + hostNames
        for part in unmatched {
            let bare = String(part.drop { $0 == "!" || $0 == "&" })
            warnings.append("Could not match supplied host pattern, ignoring: \(bare)" + Suggestion.hint(for: bare, in: names))
        }
        return HostSelection(hosts: selected, unmatchedPatterns: unmatched, warnings: warnings)
    }

    /// Ansible's `split_host_pattern`: commas separate; else colons do, except inside
    /// brackets and in a lone address (`host:22`, an IPv6 address).
    public static func splitHostPattern(_ pattern: String) -> [String] {
        if pattern.contains(",") {
            return pattern.split(separator: ",").map { $0.pythonStripped() }.filter { !$0.isEmpty }
        }
        let trimmed = pattern.pythonStripped()
        if isSingleAddress(trimmed) { return trimmed.isEmpty ? [] : [trimmed] }
        var parts: [String] = []
        var current = ""
        var inBrackets = false
        for c in pattern {
            if inBrackets {
                current.append(c)
                if c == "]" { inBrackets = false }
            } else if c == "[" {
                current.append(c)
                inBrackets = true
            } else if c == ":" || c == "]" || c.isWhitespace {
                if !current.isEmpty { parts.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    private static func isSingleAddress(_ text: String) -> Bool {
        let colons = text.filter { $0 == ":" }.count
        if colons >= 2, text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "[" || $0 == "]" }) { return true }
        guard colons == 1 || !text.contains(":") else { return false }
        let (host, port) = HostRange.splitPort(text)
        let nameLike = host.allSatisfy { $0.isLetter || $0.isNumber || "_-.[]:".contains($0) }
        return nameLike && (port != nil || !text.contains(":"))
    }

    private static func limitFile(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HostPatternError(message: "limit file \(path) does not exist")
        }
        guard !isDirectory.boolValue else { throw HostPatternError(message: "a limit starting with '@' must name a file, not the directory \(path)") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw HostPatternError(message: "cannot read limit file \(path)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.pythonStripped() }
    }

    /// Ansible's `_evaluate_patterns`: plain parts, then `&` parts, then `!` parts.
    private func evaluate(_ patterns: [String], unmatched: inout [String], warnings: inout [String]) throws -> [String] {
        let nonEmpty = patterns.filter { !$0.isEmpty }
        var plain = nonEmpty.filter { !$0.hasPrefix("!") && !$0.hasPrefix("&") }
        if plain.isEmpty { plain = ["all"] }
        let ordered = plain + nonEmpty.filter { $0.hasPrefix("&") } + nonEmpty.filter { $0.hasPrefix("!") }
        var hosts: [String] = []
        var present: Set<String> = []
        for pattern in ordered {
            if hostTable[pattern] != nil {
                if present.insert(pattern).inserted { hosts.append(pattern) }
                continue
            }
            let matched = try matchOne(pattern, unmatched: &unmatched, warnings: &warnings)
            if pattern.hasPrefix("!") {
                let excluded = Set(matched)
                hosts.removeAll { excluded.contains($0) }
                present.subtract(excluded)
            } else if pattern.hasPrefix("&") {
                let kept = Set(matched)
                hosts.removeAll { !kept.contains($0) }
                present.formIntersection(kept)
            } else {
                for host in matched where present.insert(host).inserted { hosts.append(host) }
            }
        }
        return hosts
    }

    private func matchOne(_ pattern: String, unmatched: inout [String], warnings: inout [String]) throws -> [String] {
        let body = pattern.hasPrefix("!") || pattern.hasPrefix("&") ? String(pattern.dropFirst()) : pattern
        guard !body.isEmpty else { return [] }
        let (expression, slice) = Inventory.splitSubscript(body)
        if slice?.dashed == true {
            warnings.append("Use [x:y] inclusive subscripts instead of [x-y] in '\(body)'")
        }
        let hosts = try enumerate(expression, unmatched: &unmatched)
        guard let slice, !hosts.isEmpty else { return hosts }
        let count = hosts.count
        if let end = slice.end, end != 0 {
            let last = end == -1 ? count - 1 : end
            let lower = Inventory.clampIndex(slice.start, count), upper = Inventory.clampIndex(last + 1, count)
            return lower < upper ? Array(hosts[lower..<upper]) : []
        }
        let index = slice.start < 0 ? count + slice.start : slice.start
        guard index >= 0, index < count else {
            throw HostPatternError(message: "No hosts matched the subscripted pattern '\(body)': it selects \(count) host\(count == 1 ? "" : "s")")
        }
        return [hosts[index]]
    }

    /// Python slice bound semantics.
    private static func clampIndex(_ index: Int, _ count: Int) -> Int {
        index < 0 ? max(0, count + index) : min(index, count)
    }

    private struct Subscript {
        var start: Int
        var end: Int?
        var dashed = false
    }

    /// `name[3]`, `name[-1]`, `name[1:4]`, `name[2:]` (not for `~regex`).
    private static func splitSubscript(_ pattern: String) -> (String, Subscript?) {
        guard !pattern.hasPrefix("~"), pattern.hasSuffix("]"), let open = pattern.lastIndex(of: "["),
              open > pattern.startIndex else { return (pattern, nil) }
        let inside = String(pattern[pattern.index(after: open)..<pattern.index(before: pattern.endIndex)])
        let base = String(pattern[..<open])
        if let index = Int(inside), inside.allSatisfy({ $0.isASCIIDecimal || $0 == "-" }), !inside.dropFirst().contains("-") {
            return (base, Subscript(start: index))
        }
        guard let separator = inside.firstIndex(where: { $0 == ":" || $0 == "-" }),
              let start = Int(inside[..<separator]), inside[..<separator].allSatisfy(\.isASCIIDecimal) else { return (pattern, nil) }
        let endText = inside[inside.index(after: separator)...]
        guard endText.allSatisfy(\.isASCIIDecimal) else { return (pattern, nil) }
        return (base, Subscript(start: start, end: endText.isEmpty ? -1 : Int(endText), dashed: inside[separator] == "-"))
    }

    /// Ansible's `_enumerate_matches`: matching groups' hosts, then matching hosts when no
    /// group matched or the pattern is a glob or regex, then the implicit localhost.
    private func enumerate(_ pattern: String, unmatched: inout [String]) throws -> [String] {
        let matcher = try NameMatcher(pattern)
        var results: [String] = []
        let groups = groupNames.filter(matcher.matches)
        for group in groups { results.append(contentsOf: hostNames(inGroup: group)) }
        if groups.isEmpty || pattern.hasPrefix("~") || pattern.contains(where: { ".?*[".contains($0) }) {
            results.append(contentsOf: hostNames.filter(matcher.matches))
        }
        if results.isEmpty, Inventory.localhostNames.contains(pattern) { results = [pattern] }
        if results.isEmpty, groups.isEmpty, pattern != "all" { unmatched.append(pattern) }
        return results
    }
}

extension Character {
    fileprivate var isASCIIDecimal: Bool { isASCII && isNumber }
}
