import Foundation
import Provisioner

/// Ansible's `find`: the files, directories or links under some folders that match name patterns
/// (globs or regular expressions), age, size, mode and content. One read-only `find(1)` listing per
/// folder, in the play's observation round trip; the filtering happens here, as Ansible's does,
/// and the order is Ansible's (`os.walk`: a folder's files, then its folders, then each folder).
struct FindModule: Module {
    static let name = "find"
    static let summary = "Find files by name, age, size, mode or content"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("paths", .list, required: true, aliases: ["name", "path"], doc: "folders to search"),
        ArgumentSpec("patterns", .list, default: [], aliases: ["pattern"], doc: "basename globs (or Python regexes with use_regex); default all"),
        ArgumentSpec("excludes", .list, aliases: ["exclude"], doc: "basenames to leave out, same syntax as patterns"),
        ArgumentSpec("contains", .string, doc: "Python regex a line of the file must match (files only)"),
        ArgumentSpec("read_whole_file", .bool, default: false, doc: "search contains in the whole file instead of line by line"),
        ArgumentSpec("file_type", .string, default: "file", choices: ["any", "directory", "file", "link"], doc: "what to return"),
        ArgumentSpec("age", .string, doc: "at least this old ('2d', '-1h' for at most); units s m h d w"),
        ArgumentSpec("age_stamp", .string, default: "mtime", choices: ["atime", "ctime", "mtime"], doc: "time the age is counted from"),
        ArgumentSpec("size", .string, doc: "at least this big ('10m', '-1k' for at most); units b k m g t"),
        ArgumentSpec("recurse", .bool, default: false, doc: "search below the folders too"),
        ArgumentSpec("hidden", .bool, default: false, doc: "include names starting with a dot"),
        ArgumentSpec("follow", .bool, default: false, doc: "descend into symbolic links to folders"),
        ArgumentSpec("get_checksum", .bool, default: false, doc: "checksum of each regular file found"),
        ArgumentSpec("checksum_algorithm", .string, default: "sha1", choices: GetURLModule.algorithms,
                     aliases: ["checksum", "checksum_algo"], doc: "algorithm of the checksums"),
        ArgumentSpec("use_regex", .bool, default: false, doc: "patterns and excludes are Python regexes matched at the start of the name"),
        ArgumentSpec("depth", .int, doc: "how many levels down to look (1: the folder's own entries)"),
        ArgumentSpec("mode", .string, doc: "permission bits to match ('0644' or symbolic)"),
        ArgumentSpec("exact_mode", .bool, default: true, doc: "mode must be equal (false: any of its bits set)"),
        ArgumentSpec("encoding", .string, doc: "encoding of the files searched with contains (UTF-8 only here)"),
        ArgumentSpec("limit", .int, doc: "stop after this many matches"),
    ]

    enum Pattern {
        case glob(String)
        case regex(PythonRegex)

        /// fnmatch.fnmatch, or re.match (anchored at the start).
        func matches(_ name: String) -> Bool {
            switch self {
            case .glob(let glob): return fnmatch(glob, name, 0) == 0
            case .regex(let regex):
                let ns = name as NSString
                return regex.expression.firstMatch(in: name, options: .anchored, range: NSRange(location: 0, length: ns.length)) != nil
            }
        }
    }

    let paths: [String]
    let patterns: [Pattern]
    let excludes: [Pattern]
    let globs: [String]
    let contains: PythonRegex?
    let wholeFile: Bool
    let fileType: String
    let age: Int?
    let ageStamp: String
    let size: Int?
    let recurse: Bool
    let hidden: Bool
    let follow: Bool
    let checksum: String?
    let depth: Int?
    let mode: UInt32?
    let exactMode: Bool
    let limit: Int?

    init(_ arguments: ModuleArguments) throws {
        paths = (arguments.strings("paths") ?? []).filter { !$0.isEmpty }
        let useRegex = arguments.bool("use_regex")
        func compile(_ texts: [String], _ argument: String) throws -> [Pattern] {
            try texts.map { useRegex ? .regex(try PythonRegex($0, argument: argument)) : .glob($0) }
        }
        let written = arguments.strings("patterns") ?? []
        patterns = try compile(written.isEmpty ? [useRegex ? ".*" : "*"] : written, "patterns")
        excludes = try compile(arguments.strings("excludes") ?? [], "excludes")
        globs = useRegex ? [] : (written.isEmpty ? ["*"] : written)
        contains = try arguments.string("contains").map { try PythonRegex($0, argument: "contains") }
        wholeFile = arguments.bool("read_whole_file")
        fileType = arguments.string("file_type") ?? "file"
        age = try arguments.string("age").map { try FindModule.amount($0, units: ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800],
                                                                      argument: "age", what: "age") }
        ageStamp = arguments.string("age_stamp") ?? "mtime"
        size = try arguments.string("size").map { try FindModule.amount($0, units: ["b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40],
                                                                        argument: "size", what: "size") }
        recurse = arguments.bool("recurse")
        hidden = arguments.bool("hidden")
        follow = arguments.bool("follow")
        checksum = arguments.bool("get_checksum") ? (arguments.string("checksum_algorithm") ?? "sha1") : nil
        depth = arguments.int("depth")
        exactMode = arguments["exact_mode"].flatMap(ModuleArguments.boolean) ?? true
        limit = arguments.int("limit")
        if let text = arguments.string("mode") {
            guard let bits = FileMode.parse(text) ?? FileMode.applySymbolic(text, to: 0, isDirectory: false) else {
                throw ModuleError("'\(text)' is not a file mode", argument: "mode")
            }
            mode = bits & 0o7777
        } else {
            mode = nil
        }
        if let encoding = arguments.string("encoding"), !["utf-8", "utf8", "utf_8"].contains(encoding.lowercased()) {
            throw ModuleError("only UTF-8 files can be searched here, not \(encoding)", argument: "encoding")
        }
        if let limit, limit <= 0 { throw ModuleError("limit cannot be \(limit) (use None for unlimited)", argument: "limit") }
        if paths.isEmpty { throw ModuleError("paths must name at least one folder", argument: "paths") }
    }

    /// "-2d" -> -172800: Ansible's age and size syntax.
    static func amount(_ text: String, units: [String: Int], argument: String, what: String) throws -> Int {
        let lower = text.lowercased()
        var digits = lower, factor = 1
        if let last = lower.last, let unit = units[String(last)] {
            digits = String(lower.dropLast())
            factor = unit
        }
        guard let number = Int(digits) else { throw ModuleError("failed to process \(what)", argument: argument) }
        return number * factor
    }

    // MARK: The listing

    /// `now` (the host's clock, when an age is asked), then per folder `root<TAB>PATH` and NUL-ended entry
    /// records (`TYPE MODE UID GID SIZE INODE DEV LINKS ATIME MTIME CTIME<TAB>USER<TAB>GROUP<TAB>PATH`),
    /// `sum` and `data` records for readable regular files whose name matches a glob (find's `-name` is the
    /// same fnmatch(3) the patterns are matched with here), or `skip<TAB>PATH<TAB>why`. One `find` per folder.
    static func script(aged: Bool, checksum: String?, data: Bool, globs: [String]) -> String {
        var files = ""
        if checksum != nil || data {
            let names = globs.isEmpty || globs.contains("*") ? ""
                : #"\( "# + globs.map { "-name " + RemoteShell.quoted($0) }.joined(separator: " -o ") + #" \) "#
            files = #" \( -type f "# + names + "-readable "
            if let checksum {
                files += #"-exec sh -c '"#
                    + #"for f do printf "sum\t%s\t%s\0" "$("$0" < "$f" | cut -d " " -f 1)" "$f"; "#
                    + (data ? #"printf "data\t%s\t" "$f"; base64 -w 0 < "$f"; printf "\0"; "# : "")
                    + #"done' "# + RemoteShell.quoted(checksum + "sum") + " {} + "
            } else {
                files += #"-printf 'data\t%p\t' \( -exec base64 -w 0 {} \; -o -true \) -printf '\0' "#
            }
            files += #"\)"#
        }
        return (aged ? #"printf 'now\t%s\0' "$(date +%s.%N)"\#n"# : "") + #"""
        follow=$1 maxdepth=$2; shift 2
        # A starting folder that is a link is entered either way, as os.walk does (-H); -L follows the links below too.
        H=-H; [ "$follow" = 1 ] && H=-L
        for p do
          if [ ! -d "$p" ]; then printf "skip\t%s\t'%s' is not a directory\0" "$p" "$p"; continue; fi
          printf 'root\t%s\0' "$p"
          find $H "$p" -mindepth 1 ${maxdepth:+-maxdepth "$maxdepth"} \
            -printf 'entry\t%y %m %U %G %s %i %D %n %A@ %T@ %C@\t%u\t%g\t%p\0'\#(files) 2> /dev/null
        done
        exit 0
        """#
    }

    var probe: Observation {
        let maxDepth = recurse ? depth.map(String.init) ?? "" : "1"
        let script = FindModule.script(aged: age != nil, checksum: checksum, data: contains != nil, globs: globs)
        return .command(["/bin/sh", "-c", script, "sh", follow ? "1" : "0", maxDepth] + paths)
    }

    func observations(_ context: ModuleContext) -> [Observation] { [probe] }

    struct Entry {
        var path: String
        var type: Character
        var fields: [Substring]
        var user: String
        var group: String
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        guard let output = observed.command(probe.argv) else { return .failed("find could not run on the host") }
        var now = 0.0, skipped = ValueDict(), sums: [String: String] = [:], data: [String: String] = [:]
        var roots: [String] = [], entries: [String: [Entry]] = [:]
        var root = ""
        for record in output.stdout.split(separator: "\0") {
            let parts = record.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
            switch parts[0] {
            case "now": now = Double(parts[1]) ?? 0
            case "skip" where parts.count == 3:
                skipped[String(parts[1])] = .string(String(parts[2]))
            case "root":
                root = String(parts[1])
                roots.append(root)
            case "sum" where parts.count == 3: sums[String(parts[2])] = String(parts[1])
            case "data" where parts.count == 3: data[String(parts[1])] = String(parts[2])
            case "entry" where parts.count == 5:
                let fields = parts[1].split(separator: " ")
                guard fields.count == 11, let type = fields[0].first else { continue }
                let path = String(parts[4])
                entries[root + "\u{0}" + PathText.directory(of: path), default: []]
                    .append(Entry(path: path, type: type, fields: fields, user: String(parts[2]), group: String(parts[3])))
            default: continue
            }
        }
        var found: [Value] = []
        var examined = 0
        var limitReached = false
        // os.walk's order: a folder's files, then its folders, then down into each folder.
        func walk(_ root: String, _ folder: String) {
            let listed = entries[root + "\u{0}" + folder] ?? []
            examined += listed.count
            let ordered = listed.filter { $0.type != "d" && !(follow && $0.type == "l" && entries[root + "\u{0}" + $0.path] != nil) }
                + listed.filter { $0.type == "d" || (follow && entries[root + "\u{0}" + $0.path] != nil) }
            for entry in ordered {
                guard !limitReached else { return }
                if let match = describe(entry, now: now, sums: sums, data: data) { found.append(.dict(match)) }
                if let limit, found.count == limit { limitReached = true }
            }
            for entry in ordered where entry.type == "d" || entries[root + "\u{0}" + entry.path] != nil {
                guard !limitReached else { return }
                walk(root, entry.path)
            }
        }
        for root in roots where !limitReached {
            walk(root, root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root)
        }
        let message = limitReached ? "Limit of matches reached" : skipped.isEmpty ? "All paths examined"
            : "Not all paths examined, check warnings for details"
        return Plan(result: ["files": .list(found), "matched": .int(found.count), "examined": .int(examined),
                             "skipped_paths": .dict(skipped), "msg": .string(message)])
    }

    /// The entry's result when every filter lets it through, as Ansible's `find` filters each type.
    func describe(_ entry: Entry, now: Double, sums: [String: String], data: [String: String]) -> ValueDict? {
        let name = PathText.base(of: entry.path)
        if name.hasPrefix(".") && !hidden { return nil }
        let bits = UInt32(entry.fields[1], radix: 8) ?? 0
        let sizeValue = Int(entry.fields[4]) ?? 0
        let stamp = Double(entry.fields[ageStamp == "atime" ? 8 : ageStamp == "ctime" ? 10 : 9]) ?? 0
        let named = patterns.contains { $0.matches(name) } && !excludes.contains { $0.matches(name) }
        let aged = age.map { $0 >= 0 ? now - stamp >= Double($0) : now - stamp <= Double(-$0) } ?? true
        let sized = size.map { $0 >= 0 ? sizeValue >= $0 : sizeValue <= -$0 } ?? true
        let moded = mode.map { exactMode ? bits & 0o7777 == $0 : bits & $0 != 0 } ?? true
        guard named, aged, moded else { return nil }
        switch (fileType, entry.type) {
        case ("any", "f"), ("file", "f"):
            guard sized else { return nil }
            if fileType == "file", let contains, !matchesContent(data[entry.path], contains) { return nil }
        case ("any", _), ("directory", "d"), ("link", "l"):
            break
        default:
            return nil
        }
        var result = statInfo(entry, bits: bits)
        if entry.type == "f", let sum = sums[entry.path] { result["checksum"] = .string(sum) }
        return result
    }

    func matchesContent(_ base64: String?, _ regex: PythonRegex) -> Bool {
        guard let base64, let bytes = Data(base64Encoded: base64) else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        if wholeFile { return regex.search(text) != nil }
        // Python's line iteration keeps each line's "\n"; re.match anchors at the line's start.
        var start = text.startIndex
        while start < text.endIndex {
            let end = text[start...].firstIndex(of: "\n").map { text.index(after: $0) } ?? text.endIndex
            let line = String(text[start..<end])
            let ns = line as NSString
            if regex.expression.firstMatch(in: line, options: .anchored, range: NSRange(location: 0, length: ns.length)) != nil { return true }
            start = end
        }
        return false
    }

    /// Ansible's `statinfo` for one entry.
    func statInfo(_ entry: Entry, bits: UInt32) -> ValueDict {
        let f = entry.fields
        func bit(_ mask: UInt32) -> Value { .bool(bits & mask != 0) }
        func int(_ index: Int) -> Value { .int(Int(f[index]) ?? 0) }
        func time(_ index: Int) -> Value { .float(Double(f[index]) ?? 0) }
        return ValueDict([
            ("path", .string(entry.path)), ("mode", .string(String(format: "%04o", bits & 0o7777))),
            ("isdir", .bool(entry.type == "d")), ("ischr", .bool(entry.type == "c")), ("isblk", .bool(entry.type == "b")),
            ("isreg", .bool(entry.type == "f")), ("isfifo", .bool(entry.type == "p")), ("islnk", .bool(entry.type == "l")),
            ("issock", .bool(entry.type == "s")), ("uid", int(2)), ("gid", int(3)), ("size", int(4)), ("inode", int(5)),
            ("dev", int(6)), ("nlink", int(7)), ("atime", time(8)), ("mtime", time(9)), ("ctime", time(10)),
            // find prints the number when the id has no name; Ansible gives "" then.
            ("gr_name", .string(entry.group == String(f[3]) ? "" : entry.group)),
            ("pw_name", .string(entry.user == String(f[2]) ? "" : entry.user)),
            ("wusr", bit(0o200)), ("rusr", bit(0o400)), ("xusr", bit(0o100)), ("wgrp", bit(0o020)), ("rgrp", bit(0o040)),
            ("xgrp", bit(0o010)), ("woth", bit(0o002)), ("roth", bit(0o004)), ("xoth", bit(0o001)),
            ("isuid", bit(0o4000)), ("isgid", bit(0o2000)),
        ])
    }
}
