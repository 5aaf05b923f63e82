/// The Python methods Ansible users call on strings, dicts and lists
/// (`x.startswith('a')`, `d.items()`, `d.get('k', 1)`, `', '.join(l)`).
enum TemplateMethods {
    static func call(_ method: String, on object: Value, _ arguments: TemplateArguments) throws -> Value {
        switch object {
        case .string(let s): if let v = try stringMethod(method, s, arguments) { return v }
        case .dict(let d): if let v = try dictMethod(method, d, arguments) { return v }
        case .list(let l): if let v = try listMethod(method, l, arguments) { return v }
        case .float(let d) where method == "is_integer": return .bool(d == d.rounded())
        default: break
        }
        let type = object.isNull ? "None" : "\(object.typeName) object"
        throw TemplateError("'\(type)' has no attribute '\(method)'")
    }

    /// Methods that change their list or dict.
    static let mutating: Set<String> = ["append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault"]

    /// Applies a mutating method; returns the new container and the call's result.
    static func mutate(_ object: Value, _ method: String, _ arguments: TemplateArguments) throws -> (Value, Value) {
        switch (object, method) {
        case (.list(var l), "append"):
            guard let x = try arguments.operand(0, "object")?.get() else { throw arguments.error("takes exactly one argument (0 given)") }
            l.append(x)
            return (.list(l), .null)
        case (.list(var l), "extend"):
            guard let x = try arguments.value(0, "iterable") else { throw arguments.error("takes exactly one argument (0 given)") }
            l += try TemplateFilters.items(x, arguments)
            return (.list(l), .null)
        case (.list(var l), "insert"):
            var i = try arguments.int(0, "index", default: 0)
            guard let x = try arguments.operand(1, "object")?.get() else { throw arguments.error("expected 2 arguments") }
            if i < 0 { i = max(0, i + l.count) }
            l.insert(x, at: min(i, l.count))
            return (.list(l), .null)
        case (.list(var l), "pop"):
            guard !l.isEmpty else { throw TemplateError("pop from empty list") }
            var i = try arguments.int(0, "index", default: -1)
            if i < 0 { i += l.count }
            guard i >= 0, i < l.count else { throw TemplateError("pop index out of range") }
            return (.list(l), l.remove(at: i))
        case (.list(var l), "remove"):
            guard let x = try arguments.operand(0, "value")?.get() else { throw arguments.error("takes exactly one argument (0 given)") }
            guard let i = l.firstIndex(where: { $0.pythonEquals(x) }) else { throw TemplateError("list.remove(x): x not in list") }
            l.remove(at: i)
            return (.list(l), .null)
        case (.list, "clear"):
            return (.list([]), .null)
        case (.dict(var d), "update"):
            if let other = try arguments.value(0, "other") {
                guard case .dict(let o) = other else { throw arguments.error("expects a dict, got \(other.typeName)") }
                d = d.merging(o)
            }
            for (key, operand) in arguments.keywords { d[key] = try operand.get() }
            return (.dict(d), .null)
        case (.dict(var d), "pop"):
            guard let key = try arguments.value(0, "key")?.pythonText else { throw arguments.error("expected at least 1 argument, got 0") }
            if let v = d[key] {
                d[key] = nil
                return (.dict(d), v)
            }
            guard let fallback = arguments.operand(1, "default") else { throw TemplateError("KeyError: \(Value.string(key).pythonRepr)") }
            return (.dict(d), try fallback.get())
        case (.dict(var d), "setdefault"):
            guard let key = try arguments.value(0, "key")?.pythonText else { throw arguments.error("expected at least 1 argument, got 0") }
            if let v = d[key] { return (.dict(d), v) }
            let v = try arguments.operand(1, "default")?.get() ?? .null
            d[key] = v
            return (.dict(d), v)
        case (.dict, "clear"):
            return (.dict(ValueDict()), .null)
        default:
            let type = object.isNull ? "None" : "\(object.typeName) object"
            throw TemplateError("'\(type)' has no attribute '\(method)'")
        }
    }

    static func stringArgument(_ arguments: TemplateArguments, _ index: Int, _ name: String) throws -> String {
        guard let v = try arguments.value(index, name) else { throw arguments.error("missing argument '\(name)'") }
        guard case .string(let s) = v else { throw arguments.error("must be str, not \(v.typeName)") }
        return s
    }

    /// `startswith`/`endswith` take a string or a tuple of strings.
    static func affixes(_ arguments: TemplateArguments) throws -> [String] {
        switch try arguments.value(0, "prefix") {
        case .string(let s)?: return [s]
        case .list(let l)?: return l.map(\.pythonText)
        case let v?: throw arguments.error("first arg must be str or a tuple of str, not \(v.typeName)")
        case nil: throw arguments.error("takes at least 1 argument (0 given)")
        }
    }

    static func stringMethod(_ method: String, _ s: String, _ arguments: TemplateArguments) throws -> Value? {
        switch method {
        case "startswith": return .bool(try affixes(arguments).contains { s.utf8.starts(with: $0.utf8) })
        case "endswith": return .bool(try affixes(arguments).contains { s.utf8.reversed().starts(with: $0.utf8.reversed()) })
        case "lower": return .string(s.lowercased())
        case "upper": return .string(s.uppercased())
        case "capitalize": return .string(PythonString.capitalize(s))
        case "title": return .string(PythonString.title(s))
        case "swapcase":
            return .string(String(s.unicodeScalars.map { c -> String in
                c.properties.isLowercase ? String(c).uppercased() : c.properties.isUppercase ? String(c).lowercased() : String(c)
            }.joined()))
        case "strip", "lstrip", "rstrip":
            let characters = try arguments.value(0, "chars")?.pythonText
            return .string(PythonString.strip(s, characters: characters, leading: method != "rstrip", trailing: method != "lstrip"))
        case "split", "rsplit":
            let separator = try arguments.value(0, "sep").map { v -> String in v.pythonText }
            let maxSplit = try arguments.int(1, "maxsplit", default: -1)
            let parts = method == "split" ? PythonString.split(s, separator: separator, maxSplit: maxSplit)
                                          : PythonString.rsplit(s, separator: separator, maxSplit: maxSplit)
            guard let parts else { throw arguments.error("empty separator") }
            return .list(parts.map { .string($0) })
        case "splitlines": return .list(PythonString.splitLines(s, keepEnds: try arguments.bool(0, "keepends")).map { .string($0) })
        case "replace":
            return .string(PythonString.replace(s, try stringArgument(arguments, 0, "old"), try stringArgument(arguments, 1, "new"),
                                                count: try arguments.int(2, "count")))
        case "join":
            guard let iterable = try arguments.value(0, "iterable") else { throw arguments.error("takes exactly one argument (0 given)") }
            let items = try TemplateFilters.items(iterable, arguments)
            for item in items where item.string == nil {
                throw arguments.error("sequence item: expected str instance, \(item.typeName) found")
            }
            return .string(items.map(\.pythonText).joined(separator: s))
        case "format":
            var keywords = ValueDict()
            for (name, operand) in arguments.keywords { keywords[name] = try operand.get() }
            return .string(try PythonFormat.format(s, positional: try arguments.rest(from: 0), keywords: keywords))
        case "find", "index", "rfind", "rindex":
            let needle = Array(try stringArgument(arguments, 0, "sub").utf8)
            let haystack = Array(s.utf8)
            let found = method.hasPrefix("r") ? PythonString.findLast(needle, in: haystack) : PythonString.find(needle, in: haystack)
            guard let offset = found else {
                if method.hasSuffix("index") { throw TemplateError("substring not found") }
                return .int(-1)
            }
            return .int(PythonString.codePointIndex(ofByte: offset, in: s))
        case "count":
            let needle = try stringArgument(arguments, 0, "sub")
            guard !needle.isEmpty else { return .int(PythonString.length(s) + 1) }
            return .int((PythonString.split(s, separator: needle)?.count ?? 1) - 1)
        case "isdigit", "isnumeric", "isdecimal":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(PythonString.isSpace))
        case "islower": return .bool(s.unicodeScalars.contains { $0.properties.isCased } && s.lowercased() == s)
        case "isupper": return .bool(s.unicodeScalars.contains { $0.properties.isCased } && s.uppercased() == s)
        case "isidentifier":
            guard let first = s.unicodeScalars.first, first == "_" || first.properties.isXIDStart else { return .bool(false) }
            return .bool(s.unicodeScalars.dropFirst().allSatisfy { $0.properties.isXIDContinue })
        case "zfill":
            let width = try arguments.int(0, "width", default: 0), length = PythonString.length(s)
            guard width > length else { return .string(s) }
            let zeros = String(repeating: "0", count: width - length)
            if let sign = s.first, sign == "-" || sign == "+" { return .string(String(sign) + zeros + s.dropFirst()) }
            return .string(zeros + s)
        case "ljust", "rjust", "center":
            let width = try arguments.int(0, "width", default: 0), length = PythonString.length(s)
            let fill = try arguments.value(1, "fillchar")?.pythonText ?? " "
            guard width > length else { return .string(s) }
            let total = width - length
            let left = method == "ljust" ? 0 : method == "rjust" ? total : total / 2 + (total & width & 1)
            return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: total - left))
        case "partition", "rpartition":
            let separator = try stringArgument(arguments, 0, "sep")
            let bytes = Array(s.utf8), needle = Array(separator.utf8)
            guard !needle.isEmpty else { throw arguments.error("empty separator") }
            let found = method == "partition" ? PythonString.find(needle, in: bytes) : PythonString.findLast(needle, in: bytes)
            guard let i = found else {
                return method == "partition" ? .list([.string(s), "", ""]) : .list(["", "", .string(s)])
            }
            return .list([.string(PythonString.string(bytes[..<i])), .string(separator), .string(PythonString.string(bytes[(i + needle.count)...]))])
        case "removeprefix":
            let prefix = try stringArgument(arguments, 0, "prefix")
            return .string(s.utf8.starts(with: prefix.utf8) ? PythonString.string(Array(s.utf8)[prefix.utf8.count...]) : s)
        case "removesuffix":
            let suffix = try stringArgument(arguments, 0, "suffix")
            let bytes = Array(s.utf8)
            return .string(!suffix.isEmpty && bytes.reversed().starts(with: suffix.utf8.reversed()) ? PythonString.string(bytes[..<(bytes.count - suffix.utf8.count)]) : s)
        case "expandtabs":
            return .string(s.replacingOccurrencesOfTab(with: try arguments.int(0, "tabsize", default: 8)))
        default:
            return nil
        }
    }

    static func dictMethod(_ method: String, _ d: ValueDict, _ arguments: TemplateArguments) throws -> Value? {
        switch method {
        case "items": return .list(d.map { .list([.string($0.key), $0.value]) })
        case "keys": return .list(d.keys.map { .string($0) })
        case "values": return .list(d.map(\.value))
        case "get":
            guard let key = try arguments.value(0, "key") else { throw arguments.error("expected at least 1 argument, got 0") }
            let fallback = try arguments.operand(1, "default")?.get() ?? .null
            return d[key.pythonText] ?? fallback
        case "copy": return .dict(d)
        default: return nil
        }
    }

    static func listMethod(_ method: String, _ l: [Value], _ arguments: TemplateArguments) throws -> Value? {
        switch method {
        case "index":
            guard let x = try arguments.operand(0, "value")?.get() else { throw arguments.error("takes at least 1 argument (0 given)") }
            guard let i = l.firstIndex(where: { $0.pythonEquals(x) }) else { throw TemplateError("\(x.pythonRepr) is not in list") }
            return .int(i)
        case "count":
            guard let x = try arguments.operand(0, "value")?.get() else { throw arguments.error("takes exactly one argument (0 given)") }
            return .int(l.filter { $0.pythonEquals(x) }.count)
        case "copy": return .list(l)
        default: return nil
        }
    }
}

private extension String {
    /// Python's `str.expandtabs`: tabs advance to the next multiple of `size` columns.
    func replacingOccurrencesOfTab(with size: Int) -> String {
        var out = String.UnicodeScalarView()
        var column = 0
        for c in unicodeScalars {
            switch c {
            case "\t":
                let spaces = size > 0 ? size - column % size : 0
                out.append(contentsOf: String(repeating: " ", count: spaces).unicodeScalars)
                column += spaces
            case "\n", "\r":
                out.append(c)
                column = 0
            default:
                out.append(c)
                column += 1
            }
        }
        return String(out)
    }
}
