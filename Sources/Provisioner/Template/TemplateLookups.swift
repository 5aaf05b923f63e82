import Foundation

/// The list-building lookups ansible-core ships (`nested`, `together`, `dict`, `subelements`,
/// `sequence`, `random_choice`, `fileglob`, `first_found`) and `template`; the ones `with_X` loops
/// reach for. Each follows its plugin in ansible-core 2.19.
enum TemplateLookups {
    static let names = ["nested", "together", "dict", "subelements", "sequence", "random_choice", "fileglob", "first_found", "template"]

    /// The lookup's results (a list), nil when `name` is not one of these.
    static func run(_ name: String, terms: [Value], options: [String: Value], evaluator: TemplateEvaluator) throws -> [Value]? {
        switch name {
        case "nested": return try nested(terms)
        case "together":
            guard !terms.isEmpty else { throw TemplateError("with_together requires at least one element in each list") }
            let lists = terms.map { $0.list ?? [$0] }
            let length = lists.map(\.count).max() ?? 0
            return (0..<length).map { i in .list(flatten(lists.map { i < $0.count ? $0[i] : .null })) }
        case "dict":
            return try terms.flatMap { term -> [Value] in
                guard case .dict(let d) = term else {
                    throw TemplateError("the 'dict' lookup plugin expects a dictionary, got '\(term.pythonText)' of type \(term.typeName)")
                }
                return d.map { .dict(["key": .string($0.key), "value": $0.value]) }
            }
        case "subelements": return try subelements(terms)
        case "sequence": return try sequence(terms, options: options)
        case "random_choice": return terms.randomElement().map { [$0] } ?? []
        case "fileglob": return terms.flatMap { fileglob($0.pythonText, searchPaths: evaluator.context.searchPaths) }
        case "first_found": return try firstFound(terms, options: options, searchPaths: evaluator.context.searchPaths)
        case "template": return try terms.map { try template($0.pythonText, options: options, evaluator: evaluator) }
        default: return nil
        }
    }

    /// LookupBase._flatten: one level of lists opened.
    static func flatten(_ items: [Value]) -> [Value] {
        items.flatMap { $0.list ?? [$0] }
    }

    static func nested(_ terms: [Value]) throws -> [Value] {
        guard var result = terms.first.map({ $0.list ?? [$0] }) else {
            throw TemplateError("with_nested requires at least one element in the nested list")
        }
        for next in terms.dropFirst() {
            let other = next.list ?? [next]
            result = result.flatMap { x in other.map { y in .list(flatten([x, y])) } }
        }
        return result.map { .list(flatten($0.list ?? [$0])) }
    }

    static func subelements(_ terms: [Value]) throws -> [Value] {
        let usage = "subelements lookup expects a list of two or three items, "
        guard (2...3).contains(terms.count) else { throw TemplateError(usage) }
        guard case .string(let path) = terms[1] else { throw TemplateError(usage + "first a dict or a list, second a string pointing to the subkey") }
        let elements: [Value]
        switch terms[0] {
        case .list(let l): elements = l
        case .dict(let d):
            if let skipped = d["skipped"], skipped != .bool(false) { return [] }
            elements = d.map(\.value)
        default: throw TemplateError(usage + "first a dict or a list, second a string pointing to the subkey")
        }
        var skipMissing = false
        if terms.count == 3 {
            guard case .dict(let flags) = terms[2], flags.keys.allSatisfy({ $0 == "skip_missing" }) else {
                throw TemplateError(usage + "the optional third item must be a dict with flags ('skip_missing',)")
            }
            skipMissing = flags["skip_missing"].map { ModuleArguments.boolean($0) ?? $0.isTruthy } ?? false
        }
        let keys = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var result: [Value] = []
        for element in elements {
            guard case .dict(var top) = element else { throw TemplateError("subelements lookup expects a dictionary, got '\(element.pythonText)'") }
            if let skipped = top["skipped"], skipped != .bool(false) { continue }
            // Walk to the list; the last key is removed from the element, as the plugin pops it.
            var trail: [ValueDict] = [top]
            var sublist: [Value] = []
            var missing = false
            for (index, key) in keys.enumerated() {
                let current = trail[trail.count - 1]
                guard let value = current[key] else {
                    if skipMissing { missing = true; break }
                    throw TemplateError("could not find '\(key)' key in iterated item '\(Value.dict(current).pythonText)'")
                }
                if index < keys.count - 1 {
                    guard case .dict(let inner) = value else {
                        if skipMissing { missing = true; break }
                        throw TemplateError("the key \(key) should point to a dictionary, got '\(value.pythonText)'")
                    }
                    trail.append(inner)
                } else {
                    guard case .list(let l) = value else { throw TemplateError("the key \(key) should point to a list, got '\(value.pythonText)'") }
                    sublist = l
                    trail[trail.count - 1][key] = nil
                }
            }
            if missing { continue }
            // Put the popped dictionaries back together.
            for index in stride(from: trail.count - 1, to: 0, by: -1) { trail[index - 1][keys[index - 1]] = .dict(trail[index]) }
            top = trail[0]
            for item in sublist { result.append(.list([.dict(top), item])) }
        }
        return result
    }

    // MARK: sequence

    static func sequence(_ terms: [Value], options: [String: Value]) throws -> [Value] {
        var results: [Value] = []
        for term in terms.isEmpty && !options.isEmpty ? [.string("")] : terms {
            var fields: [String: String] = options.mapValues(\.pythonText)
            let text = term.pythonText
            if let shortcut = shortcut(text) {
                fields.merge(shortcut) { $1 }
            } else {
                for (key, value) in try KeyValueArguments.parse(text, freeForm: nil, names: []) { fields[key] = value.pythonText }
            }
            let unknown = fields.keys.filter { !["start", "end", "stride", "count", "format"].contains($0) }
            guard unknown.isEmpty else { throw TemplateError("unrecognized arguments to with_sequence: \(unknown.sorted().map { "'\($0)'" })") }
            func integer(_ key: String, _ fallback: Int?) throws -> Int? {
                guard let raw = fields[key] else { return fallback }
                guard let n = Int(PythonString.strip(raw)) else {
                    throw TemplateError("Config '\(key)' for 'sequence' lookup plugin has an invalid value: Invalid value provided for 'integer': '\(raw)'")
                }
                return n
            }
            let start = try integer("start", 1) ?? 1
            let stride = try integer("stride", 1) ?? 1
            var end = try integer("end", nil)
            let count = try integer("count", nil)
            let format = fields["format"] ?? "%d"
            if count == nil && end == nil { throw TemplateError("must specify count or end in with_sequence") }
            if count != nil && end != nil { throw TemplateError("can't specify both count and end in with_sequence") }
            if let count {
                if count == 0 { continue }
                end = start + count * stride - 1
            }
            guard let last = end else { continue }
            if stride > 0 && last < start { throw TemplateError("to count backwards make stride negative") }
            if stride < 0 && last > start { throw TemplateError("to count forward don't make stride negative") }
            if stride == 0 { continue }
            guard format.filter({ $0 == "%" }).count == 1 else { throw TemplateError("bad formatting string: \(format)") }
            let adjust = stride >= 0 ? 1 : -1
            var i = start
            while stride > 0 ? i < last + adjust : i > last + adjust {
                guard results.count < TemplateGlobals.maxRange else {
                    throw TemplateError("with_sequence: more than \(TemplateGlobals.maxRange) items")
                }
                results.append(.string(try PythonFormat.percent(format, .int(i), at: nil)))
                i += stride
            }
        }
        return results
    }

    /// `[start-]end[/stride][:format]`.
    static func shortcut(_ text: String) -> [String: String]? {
        let number = "(0?x?[0-9a-f]+)"
        guard let regex = try? NSRegularExpression(pattern: "^(\(number)-)?\(number)(/\(number))?(:(.+))?$", options: [.caseInsensitive]),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        func group(_ i: Int) -> String? { Range(match.range(at: i), in: text).map { String(text[$0]) } }
        var fields: [String: String] = [:]
        fields["start"] = group(2)
        fields["end"] = group(3)
        fields["stride"] = group(5)
        fields["format"] = group(7)
        return fields
    }

    // MARK: Files

    /// Relative names are searched in each search path's `subdir/`, then the path itself (Ansible's
    /// `find_file_in_search_path`).
    static func find(_ name: String, subdir: String, searchPaths: [String]) -> String? {
        let candidates = name.hasPrefix("/") ? [name] : searchPaths.flatMap { ["\($0)/\(subdir)/\(name)", "\($0)/\(name)"] }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }.map { ($0 as NSString).standardizingPath }
    }

    static func fileglob(_ term: String, searchPaths: [String]) -> [Value] {
        let name = (term as NSString).lastPathComponent
        let directories: [String]
        if name != term {
            directories = find((term as NSString).deletingLastPathComponent, subdir: "files", searchPaths: searchPaths).map { [$0] } ?? []
        } else {
            directories = searchPaths.flatMap { ["\($0)/files", $0] }
        }
        for directory in directories {
            // Directory order, as Python's glob lists it; regular files only.
            let matches = listing(directory).filter { entry in
                fnmatch(name, entry, 0) == 0 && (!entry.hasPrefix(".") || name.hasPrefix("."))
            }.map { "\(directory)/\($0)" }.filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
            if !matches.isEmpty { return matches.map(Value.string) }
        }
        return []
    }

    /// Entry names in readdir order.
    static func listing(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func firstFound(_ terms: [Value], options: [String: Value], searchPaths: [String]) throws -> [Value] {
        let subdir = options["_subdir"]?.string ?? "files"
        var skip = options["skip"]?.isTruthy ?? false
        func split(_ value: Value?, on separators: String) -> [String] {
            switch value {
            case .string(let s)?: return s.split(whereSeparator: { separators.contains($0) }).map(String.init)
            case .list(let l)?: return l.flatMap { split($0, on: separators) }
            default: return []
            }
        }
        var search: [String] = []
        func process(_ terms: [Value]) throws {
            for term in terms {
                switch term {
                case .dict(let d):
                    let files = split(d["files"], on: ",;")
                    let paths = split(d["paths"], on: ",:;")
                    if let s = d["skip"] { skip = ModuleArguments.boolean(s) ?? s.isTruthy }
                    search += paths.isEmpty ? files : paths.flatMap { path in files.map { "\(path)/\($0)" } }
                case .string(let s): search.append(s)
                case .list(let l): try process(l)
                default: throw TemplateError("Invalid term supplied. A string, dict or list is required, not '\(term.typeName)'.")
                }
            }
        }
        try process(terms.isEmpty ? (options["files"].map { [.dict(["files": $0, "paths": options["paths"] ?? .list([])])] } ?? []) : terms)
        for name in search {
            if let path = find(name, subdir: subdir, searchPaths: searchPaths) { return [.string(path)] }
        }
        if skip { return [] }
        throw TemplateError("No file was found when using first_found.")
    }

    // MARK: template

    /// `lookup('template', 'x.j2')`: the file from `templates/` rendered with the current variables
    /// (plus `template_vars`); the same rules as the template module.
    static func template(_ name: String, options: [String: Value], evaluator: TemplateEvaluator) throws -> Value {
        for option in ["variable_start_string", "variable_end_string", "comment_start_string", "comment_end_string"] where options[option] != nil {
            throw TemplateError("lookup('template'): \(option) is not supported by provision")
        }
        guard let path = find(name, subdir: "templates", searchPaths: evaluator.context.searchPaths),
              let data = FileManager.default.contents(atPath: path) else {
            throw TemplateError("the template file \(name) could not be found for the lookup")
        }
        let text: String
        switch UTF8Text.decode([UInt8](data)) {
        case .success(let decoded): text = decoded
        case .failure(let failure): throw TemplateError("template \(path): \(failure); a template must be UTF-8 text")
        }
        var variables = evaluator.context.variables
        // template_vars were rendered already: their values are data, not templates.
        if case .dict(let extra)? = options["template_vars"] { variables = variables.merging(ValueDict(extra.map { ($0.key, Value.untrusted($0.value)) })) }
        let templar = Templar(variables: variables, searchPaths: [(path as NSString).deletingLastPathComponent] + evaluator.context.searchPaths)
        let rendered = try templar.renderTemplate(text, name: path)
        // convert_data (default true in 2.19): a result that is one expression's text stays text here.
        return .string(rendered)
    }
}

extension Templar {
    /// A `with_<name>:` loop's items: the lookup run with `wantlist`, over terms already rendered.
    public func loopLookup(_ name: String, terms: [Value], options: [String: Value] = [:]) throws -> [Value] {
        let result = try TemplateGlobals.run(name, plugin: name, terms: terms, options: options, wantList: true, evaluator: evaluator())
        return result.list ?? [result]
    }
}
