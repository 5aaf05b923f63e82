import Foundation

/// Filters that convert between formats (JSON, YAML, base64, shell), match regular
/// expressions, and take paths apart.
extension TemplateFilters {
    static func regexFlags(_ arguments: TemplateArguments, ignoreCase: Int, multiline: Int) throws -> PythonRegex.Flags {
        PythonRegex.Flags(ignoreCase: try arguments.bool(ignoreCase, "ignorecase"), multiline: try arguments.bool(multiline, "multiline"))
    }

    static let data: [String: TemplateFilter] = [
        "to_json": strict { value, arguments in
            try arguments.check(["indent", "sort_keys", "ensure_ascii", "separators"])
            var options = PythonJSON.Options()
            options.indent = try arguments.int(0, "indent").map { min(max($0, 0), 64) }
            options.sortKeys = try arguments.bool(1, "sort_keys")
            options.ensureASCII = try arguments.bool(2, "ensure_ascii", default: true)
            if case .list(let s)? = try arguments.value(3, "separators"), s.count == 2 {
                options.itemSeparator = s[0].pythonText
                options.keySeparator = s[1].pythonText
            }
            return .string(PythonJSON.dumps(value, options))
        },
        "to_nice_json": strict { value, arguments in
            try arguments.check(["indent", "sort_keys", "ensure_ascii"])
            var options = PythonJSON.Options()
            options.indent = min(max(try arguments.int(0, "indent", default: 4), 0), 64)
            options.sortKeys = try arguments.bool(1, "sort_keys", default: true)
            options.ensureASCII = try arguments.bool(2, "ensure_ascii", default: true)
            options.itemSeparator = ","
            return .string(PythonJSON.dumps(value, options))
        },
        "from_json": strict { value, arguments in
            guard case .string(let text) = value else { throw arguments.error("the JSON object must be str, not \(value.typeName)") }
            return try PythonJSON.parse(text)
        },
        "to_yaml": strict { value, arguments in
            var options = YAMLEmitter.Options()
            try yamlOptions(arguments, into: &options)
            return .string(YAMLEmitter.dump(value, options))
        },
        "to_nice_yaml": strict { value, arguments in
            var options = YAMLEmitter.Options()
            options.indent = 4
            options.flowStyle = .block
            try yamlOptions(arguments, into: &options)
            return .string(YAMLEmitter.dump(value, options))
        },
        "from_yaml": strict { value, arguments in
            guard case .string(let text) = value else { return value }
            do {
                return try YAMLStream(text, file: "<from_yaml>").documents.first.map(Value.init) ?? .null
            } catch {
                throw TemplateError("from_yaml: \(error)")
            }
        },
        "from_yaml_all": strict { value, arguments in
            guard case .string(let text) = value else { return value.isNull ? .list([]) : value }
            do {
                return .list(try YAMLStream(text, file: "<from_yaml_all>").documents.map(Value.init))
            } catch {
                throw TemplateError("from_yaml_all: \(error)")
            }
        },
        "b64encode": text(["encoding", "urlsafe"]) { s, arguments in
            var encoded = Data(s.utf8).base64EncodedString()
            if try arguments.bool(1, "urlsafe") {
                encoded = encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            }
            return .string(encoded)
        },
        "b64decode": text(["encoding", "urlsafe"]) { s, arguments in
            var alphabet = s
            if try arguments.bool(1, "urlsafe") {
                alphabet = alphabet.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            }
            // Python's b64decode skips characters outside the alphabet before checking padding.
            let cleaned = alphabet.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+/=".unicodeScalars.contains($0)) }
            guard let data = Data(base64Encoded: String(String.UnicodeScalarView(cleaned))) else {
                throw arguments.error("Incorrect padding")
            }
            return .string(String(decoding: data, as: UTF8.self))
        },
        "quote": strict { value, arguments in
            try arguments.check([])
            return .string(shellQuote(value.isNull ? "" : value.pythonText))
        },
        "regex_replace": text(["pattern", "replacement", "ignorecase", "multiline", "count", "mandatory_count"]) { s, arguments in
            let pattern = try arguments.value(0, "pattern")?.pythonText ?? ""
            let replacement = try arguments.value(1, "replacement")?.pythonText ?? ""
            let regex = try PythonRegex.compile(pattern, try regexFlags(arguments, ignoreCase: 2, multiline: 3))
            let count = try arguments.int(4, "count", default: 0)
            let result = try regex.substitute(replacement, in: s, count: count)
            let mandatory = try arguments.int(5, "mandatory_count", default: 0)
            if mandatory != 0, mandatory != result.count {
                throw arguments.error("'\(pattern)' should match \(mandatory) times, but matches \(result.count) times in '\(s)'")
            }
            return .string(result.text)
        },
        "regex_search": strict { value, arguments in
            guard let pattern = try arguments.value(0, "regex")?.pythonText else { throw arguments.error("needs a regular expression") }
            for (name, _) in arguments.keywords where !["ignorecase", "multiline"].contains(name) {
                throw arguments.error("unexpected keyword argument '\(name)'")
            }
            let flags = PythonRegex.Flags(ignoreCase: try arguments.keywords.first { $0.name == "ignorecase" }?.value.get().isTruthy ?? false,
                                          multiline: try arguments.keywords.first { $0.name == "multiline" }?.value.get().isTruthy ?? false)
            let regex = try PythonRegex.compile(pattern, flags)
            guard let match = regex.firstMatch(in: value.pythonText) else { return .null }
            let references = try arguments.rest(from: 1)
            if references.isEmpty { return .string(match.group(0) ?? "") }
            return .list(try references.map { reference in
                let text = reference.pythonText
                if text.hasPrefix("\\g<"), text.hasSuffix(">") {
                    let name = String(text.dropFirst(3).dropLast())
                    if let n = Int(name) { return match.group(n).map(Value.string) ?? .null }
                    return match.group(named: name).map(Value.string) ?? .null
                }
                guard text.hasPrefix("\\"), let n = Int(text.dropFirst()) else { throw arguments.error("Unknown argument") }
                guard n <= match.groupCount else { throw arguments.error("no such group") }
                return match.group(n).map(Value.string) ?? .null
            })
        },
        "regex_findall": text(["regex", "multiline", "ignorecase"]) { s, arguments in
            let pattern = try arguments.value(0, "regex")?.pythonText ?? ""
            let regex = try PythonRegex.compile(pattern, try regexFlags(arguments, ignoreCase: 2, multiline: 1))
            return .list(regex.matches(in: s).map { match in
                switch match.groupCount {
                case 0: return .string(match.group(0) ?? "")
                case 1: return .string(match.group(1) ?? "")
                default: return .list((1...match.groupCount).map { .string(match.group($0) ?? "") })
                }
            })
        },
        "regex_escape": text(["re_type"]) { s, arguments in
            let type = try arguments.string(0, "re_type", default: "python")
            switch type {
            case "python": return .string(PythonRegex.escape(s))
            case "posix_basic":
                var out = ""
                for c in s { if "].[^$*\\".contains(c) { out.append("\\") }; out.append(c) }
                return .string(out)
            default: throw arguments.error("Regex type (\(type)) not yet implemented")
            }
        },
        "basename": text { s, _ in .string(PythonPath.split(s).tail) },
        "dirname": text { s, _ in .string(PythonPath.dirname(s)) },
        "splitext": text { s, _ in
            let (root, ext) = PythonPath.splitext(s)
            return .list([.string(root), .string(ext)])
        },
        "expanduser": text { s, _ in .string(PythonPath.expandUser(s)) },
        "normpath": text { s, _ in .string(PythonPath.normalize(s)) },
        "path_join": strict { value, arguments in
            switch value {
            case .string(let s): return .string(s)
            case .list(let parts): return .string(PythonPath.join(parts.map(\.pythonText)))
            default: throw arguments.error("|path_join expects string or sequence, got \(value.typeName) instead.")
            }
        },
    ]

    static func yamlOptions(_ arguments: TemplateArguments, into options: inout YAMLEmitter.Options) throws {
        if let first = arguments.positional.first, let indent = try first.get().pythonNumber, case .int(let i) = indent {
            options.indent = i
        }
        for (name, operand) in arguments.keywords {
            let v = try operand.get()
            switch name {
            case "indent": options.indent = try arguments.int(0, "indent", default: options.indent)
            case "default_flow_style": options.flowStyle = v.isNull ? .auto : v.isTruthy ? .flow : .block
            case "sort_keys": options.sortKeys = v.isTruthy
            case "width": options.width = PythonNumbers.int(v) ?? options.width
            case "explicit_start": options.explicitStart = v.isTruthy
            case "explicit_end": options.explicitEnd = v.isTruthy
            case "allow_unicode": options.allowUnicode = v.isTruthy
            default: throw arguments.error("unexpected keyword argument '\(name)'")
            }
        }
        options.indent = min(max(options.indent, 2), 9)
    }

    /// Python's `shlex.quote`.
    static func shellQuote(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let safe = s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "_@%+=:,./-".utf8.contains(b)
        }
        return safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
    }
}

/// `os.path` (POSIX) as Ansible's path filters use it.
enum PythonPath {
    /// `os.path.split`: head without trailing slashes (unless all slashes), and tail.
    static func split(_ p: String) -> (head: String, tail: String) {
        let bytes = Array(p.utf8)
        let cut = (bytes.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
        var head = Array(bytes[..<cut])
        let tail = String(decoding: bytes[cut...], as: UTF8.self)
        if !head.isEmpty, !head.allSatisfy({ $0 == UInt8(ascii: "/") }) {
            while head.last == UInt8(ascii: "/") { head.removeLast() }
        }
        return (String(decoding: head, as: UTF8.self), tail)
    }

    static func dirname(_ p: String) -> String { split(p).head }

    /// `os.path.splitext`: the extension starts at the last dot of the last component, unless that component only has leading dots.
    static func splitext(_ p: String) -> (String, String) {
        let bytes = Array(p.utf8)
        let slash = (bytes.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot > slash else { return (p, "") }
        guard bytes[slash..<dot].contains(where: { $0 != UInt8(ascii: ".") }) else { return (p, "") }
        return (String(decoding: bytes[..<dot], as: UTF8.self), String(decoding: bytes[dot...], as: UTF8.self))
    }

    static func join(_ parts: [String]) -> String {
        var path = ""
        for part in parts {
            if part.hasPrefix("/") { path = part } else if path.isEmpty || path.hasSuffix("/") { path += part } else { path += "/" + part }
        }
        return path
    }

    static func expandUser(_ p: String) -> String {
        guard p.hasPrefix("~") else { return p }
        let rest = p.dropFirst()
        let end = rest.firstIndex(of: "/") ?? rest.endIndex
        let user = String(rest[..<end])
        let home: String
        if user.isEmpty {
            home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        } else {
            guard let h = FileManager.default.homeDirectory(forUser: user)?.path else { return p }
            home = h
        }
        let trimmed = home.hasSuffix("/") && home != "/" ? String(home.dropLast()) : home
        return (trimmed == "/" && rest[end...].hasPrefix("/") ? "" : trimmed) + rest[end...]
    }

    /// `os.path.normpath`.
    static func normalize(_ p: String) -> String {
        if p.isEmpty { return "." }
        let initialSlashes = p.hasPrefix("//") && !p.hasPrefix("///") ? 2 : p.hasPrefix("/") ? 1 : 0
        var parts: [Substring] = []
        for component in p.split(separator: "/") where component != "." {
            if component == "..", initialSlashes == 0 ? (parts.last.map { $0 != ".." } ?? false) : true {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(component)
        }
        let joined = String(repeating: "/", count: initialSlashes) + parts.joined(separator: "/")
        return joined.isEmpty ? "." : joined
    }
}
