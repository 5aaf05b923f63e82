import Provisioner

/// Ansible's `lineinfile`: one line present (replacing the last line a regexp or
/// string matches, else inserted after/before a marker) or absent, with Ansible's
/// exact edit rules. Lines the edit does not touch keep their bytes.
struct LineInFileModule: Module {
    static let name = "lineinfile"
    static let summary = "Ensure a particular line is in a file, or replace it"
    /// Files only: queued unit restarts may wait past this task (a unit and its config files, one reload).
    static let defersUnitRestarts = true
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("path", .path, required: true, aliases: ["dest", "destfile", "name"], doc: "file to edit"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"], doc: "whether the line should be there"),
        ArgumentSpec("regexp", .string, aliases: ["regex"],
                     doc: "Python regex searched in every line: the last match is replaced (present) or all matches removed (absent)"),
        ArgumentSpec("search_string", .string, doc: "literal text searched in every line, like regexp"),
        ArgumentSpec("line", .string, aliases: ["value"], doc: "the line to insert or replace with (required for present)"),
        ArgumentSpec("backrefs", .bool, default: false,
                     doc: "expand \\1 and \\g<name> in line from regexp; when regexp matches nothing, change nothing"),
        ArgumentSpec("insertafter", .string, doc: "'EOF' (default), 'BOF' or a regex: insert after its last match"),
        ArgumentSpec("insertbefore", .string, doc: "'BOF' or a regex: insert before its last match"),
        ArgumentSpec("firstmatch", .bool, default: false, doc: "insertafter/insertbefore use the first matching line"),
        ArgumentSpec("create", .bool, default: false, doc: "create the file when it is missing (state present)"),
        ArgumentSpec("backup", .bool, default: false, doc: "keep the old file as PATH.PID.DATE@TIME~"),
        Validation.spec,
    ] + FileAttributeArguments.specs

    let path: String
    let present: Bool
    let regexp: PythonRegex?
    let searchString: String?
    let line: String?
    let backrefs: Bool
    let insertAfter: String?
    let insertBefore: String?
    /// The compiled marker (insertafter or insertbefore when it is a regex).
    let marker: PythonRegex?
    let firstMatch: Bool
    let create: Bool
    let backup: Bool
    let attributes: FileAttributeArguments
    let validation: Validation?

    init(_ arguments: ModuleArguments) throws {
        path = arguments.string("path") ?? ""
        present = arguments.string("state") != "absent"
        searchString = arguments.string("search_string")
        line = arguments.string("line")
        backrefs = arguments.bool("backrefs")
        firstMatch = arguments.bool("firstmatch")
        create = arguments.bool("create")
        backup = arguments.bool("backup")
        attributes = FileAttributeArguments(arguments)
        validation = try Validation(arguments)
        if arguments.string("insertafter") != nil && arguments.string("insertbefore") != nil {
            throw ModuleError("parameters are mutually exclusive: insertbefore|insertafter", argument: "insertbefore")
        }
        if arguments.string("regexp") != nil && searchString != nil {
            throw ModuleError("parameters are mutually exclusive: regexp|search_string", argument: "search_string")
        }
        if backrefs && searchString != nil {
            throw ModuleError("parameters are mutually exclusive: backrefs|search_string", argument: "backrefs")
        }
        regexp = try arguments.string("regexp").map { try PythonRegex($0, argument: "regexp") }
        // With neither marker given, Ansible inserts at the end of the file.
        insertBefore = arguments.string("insertbefore")
        insertAfter = arguments.string("insertafter") ?? (insertBefore == nil ? "EOF" : nil)
        if let after = insertAfter, after != "EOF", after != "BOF" {
            marker = try PythonRegex(after, argument: "insertafter")
        } else if let before = insertBefore, before != "BOF" {
            marker = try PythonRegex(before, argument: "insertbefore")
        } else {
            marker = nil
        }
        if present {
            if backrefs && regexp == nil { throw ModuleError("regexp is required with backrefs=true", argument: "backrefs") }
            if line == nil { throw ModuleError("line is required with state=present", argument: "line") }
        } else if regexp == nil && searchString == nil && line == nil {
            throw ModuleError("one of line, search_string, or regexp is required with state=absent", argument: "state")
        }
    }

    // MARK: Observations

    func observations(_ context: ModuleContext) -> [Observation] {
        var wanted = [Observation.file(path: path, content: true)] + attributes.observations()
        if present && create, let parent = PathText.directory(of: path).nonEmpty {
            wanted.append(.file(path: parent, content: false))
        }
        return wanted
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let current = observed.file(path)
        switch current?.kind {
        case .directory?:
            return .failed("Path \(path) is a directory !")
        case .link?:
            return .failed("\(path) is a symbolic link (to \(current?.linkTarget ?? "?")); lineinfile here edits regular files only: give the link's target as path")
        default:
            break
        }
        guard let current else {
            if !present { return Plan(result: ValueDict([("msg", "file not present")])) }
            if !create { return .failed("Destination \(path) does not exist !") }
            return try newFile(observed)
        }
        let lines = LineInFileModule.lines(current.content ?? [])
        let edit = try present ? insertOrReplace(lines) : remove(lines)
        var changes: [Change] = []
        if let edited = edit.lines {
            let after = edited.flatMap { $0 }
            changes.append(Change("\(edit.message) in \(path)",
                                  diff: TextDiff(label: "\(path) (content)",
                                                 before: ContentDeployment.diffText(current.content ?? []),
                                                 after: ContentDeployment.diffText(after)),
                                  actions: (validation?.actions(for: path, content: after, attributes: FileAttributes(mode: current.mode)) ?? [])
                                    + [.writeFile(path: path, content: after, attributes: FileAttributes(), backup: backup)]))
        }
        let attributeChanges = try attributes.changes(path, current, observed)
        changes += attributeChanges
        var message = edit.lines == nil ? "" : edit.message
        if !attributeChanges.isEmpty {
            message += (message.isEmpty ? "" : " and ") + "ownership, perms or SE linux context changed"
        }
        var result = ValueDict([("msg", .string(message)), ("backup", "")])
        if !present { result["found"] = .int(edit.found) }
        return Plan(changes: changes, result: result)
    }

    /// `create: yes` on a missing file: its only line is `line`, in a new parent if need be.
    func newFile(_ observed: Observations) throws -> Plan {
        let edit = try insertOrReplace([])
        let content = (edit.lines ?? []).flatMap { $0 }
        var changes: [Change] = []
        if let parent = PathText.directory(of: path).nonEmpty, observed.file(parent) == nil {
            changes.append(Change("create directory \(parent)", actions: [.makeDirectory(path: parent, attributes: FileAttributes())]))
        }
        let wanted = try attributes.forNewPath(isDirectory: false)
        changes.append(Change("create \(path) with \(edit.message)",
                              diff: TextDiff(label: "\(path) (content)", before: "", after: ContentDeployment.diffText(content)),
                              actions: (validation?.actions(for: path, content: content, attributes: wanted) ?? [])
                                + [.writeFile(path: path, content: content, attributes: wanted, backup: false)]))
        return Plan(changes: changes, result: ValueDict([("msg", .string(edit.message)), ("backup", "")]))
    }

    // MARK: Aspect: the line itself

    /// The edited lines (nil: no change), what was done, and how many lines matched.
    struct Edit {
        var lines: [[UInt8]]?
        var message: String
        var found = 0
    }

    /// Python's `readlines()` on bytes: each line keeps its "\n".
    static func lines(_ content: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        for (i, byte) in content.enumerated() where byte == UInt8(ascii: "\n") {
            lines.append(Array(content[start...i]))
            start = i + 1
        }
        if start < content.count { lines.append(Array(content[start...])) }
        return lines
    }

    /// `rstrip(b'\r\n')`.
    static func stripped(_ line: [UInt8]) -> ArraySlice<UInt8> {
        var end = line.count
        while end > 0 && (line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r")) { end -= 1 }
        return line[..<end]
    }

    static func text(_ line: [UInt8]) -> String { String(decoding: line, as: UTF8.self) }

    static func endsLine(_ line: [UInt8]?) -> Bool {
        line?.last == UInt8(ascii: "\n") || line?.last == UInt8(ascii: "\r")
    }

    /// `state: present`, step by step as Ansible's module does it.
    func insertOrReplace(_ original: [[UInt8]]) throws -> Edit {
        var lines = original
        let newLine = Array((line ?? "").utf8)
        let newline = UInt8(ascii: "\n")
        // 1. The last (or first) line regexp or search_string matches.
        var found = -1
        var match: PythonRegex.Match?
        var matched = false
        if let regexp {
            for (i, candidate) in lines.enumerated() {
                if let m = regexp.search(Self.text(candidate)) {
                    found = i
                    match = m
                    matched = true
                    if firstMatch { break }
                }
            }
        }
        if let searchString {
            let needle = Array(searchString.utf8)
            for (i, candidate) in lines.enumerated() where candidate.contains(subsequence: needle) {
                found = i
                matched = true
                if firstMatch { break }
            }
        }
        // 2. Otherwise the line itself, and where a marker would put it.
        var insertAt = -1
        if !matched {
            for (i, candidate) in lines.enumerated() {
                if Self.stripped(candidate).elementsEqual(newLine) {
                    found = i
                } else if let marker, marker.search(Self.text(candidate)) != nil {
                    insertAt = insertAfter != nil ? i + 1 : i
                    if firstMatch { break }
                }
            }
        }
        if found != -1 {
            var replacement = newLine
            if backrefs, let match { replacement = Array(try match.expand(line ?? "", argument: "line").utf8) }
            if replacement.last != newline { replacement.append(newline) }
            guard lines[found] != replacement else { return Edit(lines: nil, message: "") }
            lines[found] = replacement
            return Edit(lines: lines, message: "line replaced")
        }
        // backrefs without a match: the line cannot be built, so nothing is done.
        if backrefs { return Edit(lines: nil, message: "") }
        if insertBefore == "BOF" || insertAfter == "BOF" {
            lines.insert(newLine + [newline], at: 0)
            return Edit(lines: lines, message: "line added")
        }
        if insertAfter == "EOF" || insertAt == -1 {
            // A last line without its newline gets one before the new line.
            if let last = lines.last, !Self.endsLine(last) { lines.append([newline]) }
            lines.append(newLine + [newline])
            return Edit(lines: lines, message: "line added")
        }
        if insertAfter != nil {
            // Nothing to do when the line already follows the marker.
            if insertAt == lines.count {
                guard !Self.stripped(lines[insertAt - 1]).elementsEqual(newLine) else { return Edit(lines: nil, message: "") }
                lines.append(newLine + [newline])
            } else {
                guard !Self.stripped(lines[insertAt]).elementsEqual(newLine) else { return Edit(lines: nil, message: "") }
                lines.insert(newLine + [newline], at: insertAt)
            }
            return Edit(lines: lines, message: "line added")
        }
        lines.insert(newLine + [newline], at: insertAt)
        return Edit(lines: lines, message: "line added")
    }

    /// `state: absent`: every line that matches goes.
    func remove(_ lines: [[UInt8]]) throws -> Edit {
        let needle = searchString.map { Array($0.utf8) }
        let exact = line.map { Array($0.utf8) }
        let kept = lines.filter { candidate in
            if let regexp { return regexp.search(Self.text(candidate)) == nil }
            if let needle { return !candidate.contains(subsequence: needle) }
            return !Self.stripped(candidate).elementsEqual(exact ?? [])
        }
        let found = lines.count - kept.count
        guard found > 0 else { return Edit(lines: nil, message: "", found: 0) }
        return Edit(lines: kept, message: "\(found) line(s) removed", found: found)
    }
}

extension Array where Element == UInt8 {
    /// Python's `needle in haystack` for bytes (the empty needle is in everything).
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
