import Foundation

/// Global functions: `range()`, `lookup()`/`query()`, `dict()`, `namespace()`.
enum TemplateGlobals {
    static let functions: Set<String> = ["range", "lookup", "query", "q", "dict", "namespace"]
    static let lookups = ["env", "file", "vars", "items", "list", "indexed_items"] + TemplateLookups.names
    static let reshapingLookups: Set<String> = ["vars", "items", "list", "indexed_items", "nested", "together", "dict",
                                                 "subelements", "sequence", "random_choice"]
    /// `range()` may not build more than this many numbers (Jinja's sandbox uses the same bound).
    static let maxRange = 100_000

    static func isFunction(_ name: String) -> Bool { functions.contains(name) }

    static func call(_ name: String, _ arguments: TemplateArguments, evaluator: TemplateEvaluator) throws -> TemplateOperand {
        switch name {
        case "range": return .value(try range(arguments))
        case "lookup": return .value(try lookup(arguments, evaluator: evaluator, query: false))
        case "query", "q": return .value(try lookup(arguments, evaluator: evaluator, query: true))
        case "dict", "namespace":
            var d = ValueDict()
            if let first = arguments.positional.first {
                guard arguments.positional.count == 1 else { throw arguments.error("expected at most 1 positional argument") }
                switch try first.get() {
                case .dict(let given): d = given
                case .list(let pairs):
                    for pair in pairs {
                        guard case .list(let kv) = pair, kv.count == 2 else { throw arguments.error("sequence elements must be pairs") }
                        d[kv[0].pythonText] = kv[1]
                    }
                case let other: throw arguments.error("'\(other.typeName)' object is not iterable")
                }
            }
            for (key, operand) in arguments.keywords { d[key] = try operand.get() }
            return .value(.dict(d))
        default:
            throw TemplateError("'\(name)' is undefined", undefinedVariable: name)
        }
    }

    static func range(_ arguments: TemplateArguments) throws -> Value {
        let numbers = try arguments.positional.map { operand -> Int in
            let v = try operand.get()
            guard case .int(let i)? = v.pythonNumber, v.typeName != "float" else {
                throw arguments.error("'\(v.typeName)' object cannot be interpreted as an integer")
            }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch numbers.count {
        case 1: (start, stop, step) = (0, numbers[0], 1)
        case 2: (start, stop, step) = (numbers[0], numbers[1], 1)
        case 3: (start, stop, step) = (numbers[0], numbers[1], numbers[2])
        default: throw arguments.error("expected 1 to 3 arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw arguments.error("arg 3 must not be zero") }
        let count = max(0, ((Double(stop) - Double(start)) / Double(step)).rounded(.up))
        guard count <= Double(maxRange) else { throw arguments.error("range too big: \(Int(count)) items (at most \(maxRange))") }
        return .list(stride(from: start, to: stop, by: step).map { .int($0) })
    }

    /// `lookup('env', 'HOME')`, `lookup('file', 'motd.txt')`, `query('items', ...)`.
    static func lookup(_ arguments: TemplateArguments, evaluator: TemplateEvaluator, query: Bool) throws -> Value {
        guard let first = arguments.positional.first, case .string(let plugin) = try first.get() else {
            throw arguments.error("the lookup plugin name must be a string")
        }
        let name = plugin.hasPrefix("ansible.builtin.") ? String(plugin.dropFirst(16)) : plugin
        let terms = try arguments.rest(from: 1)
        var options: [String: Value] = [:]
        for (key, operand) in arguments.keywords { options[key] = try operand.get() }
        let wantList = query || options.removeValue(forKey: "wantlist")?.isTruthy == true
        let errors = options.removeValue(forKey: "errors")?.pythonText ?? "strict"
        do {
            return try run(name, plugin: plugin, terms: terms, options: options, wantList: wantList, evaluator: evaluator)
        } catch where errors == "ignore" || errors == "warn" {
            return wantList ? .list([]) : .null
        }
    }

    static func run(_ name: String, plugin: String, terms: [Value], options: [String: Value], wantList: Bool,
                    evaluator: TemplateEvaluator) throws -> Value {
        var results: [Value]
        // What a lookup reads (a file, the environment, file names, a template's output) is data (Ansible 2.19):
        // no condition evaluates it. Only lookups that reshape their own terms give nothing new.
        if !reshapingLookups.contains(name) { evaluator.context.readUntrusted() }
        switch name {
        case "env":
            let environment = ProcessInfo.processInfo.environment
            let fallback = options["default"] ?? .string("")
            results = terms.map { term in environment[term.pythonText].map(Value.string) ?? fallback }
        case "file":
            results = try terms.map { term in .string(try readFile(term.pythonText, evaluator: evaluator, options: options)) }
        case "vars":
            results = try terms.map { term in
                let variable = term.pythonText
                switch try evaluator.lookup(variable, at: 0) {
                case .value(let v): return v
                case .undefined(let u):
                    if let fallback = options["default"] { return fallback }
                    throw TemplateError("No variable found with this name: \(variable)", undefinedVariable: u.variable)
                }
            }
        case "items":
            results = TemplateFilters.flatten(terms, levels: 1, skipNulls: false)
        case "list":
            results = terms
        case "indexed_items":
            results = TemplateFilters.flatten(terms, levels: 1, skipNulls: false).enumerated().map { .list([.int($0.offset), $0.element]) }
        default:
            guard let found = try TemplateLookups.run(name, terms: terms, options: options, evaluator: evaluator) else {
                throw TemplateError("lookup plugin '\(plugin)' not found" + Suggestion.hint(for: name, in: lookups))
            }
            results = found
        }
        if wantList || results.isEmpty { return .list(results) }
        // Without wantlist Ansible unwraps one result and joins several strings with commas.
        if results.count == 1 { return results[0] }
        let strings = results.compactMap(\.string)
        return strings.count == results.count ? .string(strings.joined(separator: ",")) : .list(results)
    }

    /// The file lookup: relative paths are searched under `files/` and then directly in each search path.
    static func readFile(_ path: String, evaluator: TemplateEvaluator, options: [String: Value]) throws -> String {
        var candidates: [String] = []
        if path.hasPrefix("/") {
            candidates = [path]
        } else {
            for base in evaluator.context.searchPaths {
                candidates.append((base as NSString).appendingPathComponent("files/" + path))
                candidates.append((base as NSString).appendingPathComponent(path))
            }
            candidates.append((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path))
        }
        var isDirectory: ObjCBool = false
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue }),
              let data = FileManager.default.contents(atPath: found) else {
            throw TemplateError("could not locate file in lookup: \(path)")
        }
        var text: String
        switch UTF8Text.decode([UInt8](data)) {
        case .success(let decoded): text = decoded
        case .failure(let failure):
            throw TemplateError("lookup('file'): \(found): \(failure); it returns text, so the file must be UTF-8"
                + " (to put a file's bytes on the host as they are, use copy with src)")
        }
        if options["rstrip"]?.isTruthy ?? true { text = PythonString.strip(text, leading: false, trailing: true) }
        if options["lstrip"]?.isTruthy ?? false { text = PythonString.strip(text, leading: true, trailing: false) }
        return text
    }
}
