/// One argument of a module: the single declaration behind validation, `--help`
/// and "did you mean" suggestions.
public struct ArgumentSpec: Sendable {
    public enum Kind: String, Sendable {
        /// Text; numbers and booleans are turned into text as Ansible does.
        case string
        /// A filesystem path (text).
        case path
        case int
        /// yes/no, true/false, on/off, 1/0.
        case bool
        /// File permissions: `0644` (YAML octal int), `"0644"`, `"644"` or `"u=rw,g=r,o=r"`.
        case mode
        /// A TCP/UDP port, 1-65535.
        case port
        /// A list; a comma-separated string is split, as Ansible does.
        case list
        case dict
        /// Anything, unchecked.
        case raw
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    public var defaultValue: Value?
    public var choices: [String]
    public var aliases: [String]
    public var doc: String

    public init(_ name: String, _ kind: Kind, required: Bool = false, default defaultValue: Value? = nil,
                choices: [String] = [], aliases: [String] = [], doc: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.choices = choices
        self.aliases = aliases
        self.doc = doc
    }
}

/// Why arguments were refused; `argument` lets the engine point at its line.
public struct ArgumentError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var argument: String?

    public init(_ message: String, argument: String? = nil) {
        self.message = message
        self.argument = argument
    }

    public var description: String { message }
}

/// Arguments checked against a module's declaration, with defaults filled in.
public struct ModuleArguments: Sendable {
    public private(set) var values: ValueDict

    public init(_ values: ValueDict) { self.values = values }

    /// Checks names, required arguments, types and choices; converts values the way
    /// Ansible does (`"yes"` -> true, `"8080"` -> 8080) and fills in defaults.
    /// `templated` names arguments whose values still hold `{{ }}`: only their names are checked.
    public static func validate(_ raw: ValueDict, against specs: [ArgumentSpec], module: String,
                                templated: Set<String> = []) throws -> ModuleArguments {
        var byName: [String: ArgumentSpec] = [:]
        for spec in specs {
            byName[spec.name] = spec
            for alias in spec.aliases { byName[alias] = spec }
        }
        var values = ValueDict()
        for (key, marked) in raw {
            let value = marked.plain
            guard let spec = byName[key] else {
                let known = specs.map(\.name) + specs.flatMap(\.aliases)
                throw ArgumentError("module '\(module)' has no argument '\(key)'\(Suggestion.hint(for: key, in: known))"
                    + "; its arguments are: \(specs.map(\.name).sorted().joined(separator: ", "))", argument: key)
            }
            if values[spec.name] != nil {
                throw ArgumentError("argument '\(spec.name)' is given twice (as '\(key)')", argument: key)
            }
            // C strings end at NUL: the host would act on the text before it (`/x/victim\0.bak` is `/x/victim`).
            if value.containsNUL {
                throw ArgumentError("argument '\(key)' holds a NUL byte (\\0), which no path, name or command can carry:"
                    + " the host would see the text cut there; remove it (binary content belongs in a file given as src)", argument: key)
            }
            values[spec.name] = templated.contains(key) ? value : try coerce(value, to: spec, module: module, as: key)
        }
        for spec in specs where values[spec.name] == nil {
            if spec.required {
                throw ArgumentError("module '\(module)' needs the argument '\(spec.name)' (\(spec.doc))")
            }
            if let d = spec.defaultValue { values[spec.name] = d }
        }
        return ModuleArguments(values)
    }

    static func coerce(_ value: Value, to spec: ArgumentSpec, module: String, as key: String) throws -> Value {
        func wrong(_ expected: String) -> ArgumentError {
            ArgumentError("argument '\(key)' of '\(module)' must be \(expected), not \(value.typeName) \(value.json)", argument: key)
        }
        if value == .null && !spec.required { return spec.defaultValue ?? .null }
        let converted: Value
        switch spec.kind {
        case .raw, .dict:
            if spec.kind == .dict, value.dict == nil { throw wrong("a mapping") }
            converted = value
        case .string, .path:
            switch value {
            case .string: converted = value
            case .int(let i): converted = .string(String(i))
            case .float(let d): converted = .string(String(d))
            case .bool(let b): converted = .string(b ? "True" : "False")
            default: throw wrong("text")
            }
        case .int:
            switch value {
            case .int: converted = value
            case .string(let s): guard let i = Int(s.trimmingSpaces) else { throw wrong("an integer") }; converted = .int(i)
            case .float(let d) where d == d.rounded(): converted = .int(Int(d))
            default: throw wrong("an integer")
            }
        case .port:
            let port: Int
            switch value {
            case .int(let i): port = i
            case .string(let s): guard let i = Int(s.trimmingSpaces) else { throw wrong("a port number") }; port = i
            default: throw wrong("a port number")
            }
            guard (1...65535).contains(port) else {
                throw ArgumentError("argument '\(key)' of '\(module)': port \(port) is out of range (1-65535)", argument: key)
            }
            converted = .int(port)
        case .bool:
            guard let b = ModuleArguments.boolean(value) else { throw wrong("a boolean (yes/no, true/false)") }
            converted = .bool(b)
        case .mode:
            switch value {
            case .int(let i) where i >= 0 && i <= 0o7777: converted = value
            case .string(let s) where FileMode.parse(s) != nil || FileMode.isSymbolic(s) || s == "preserve": converted = value
            default: throw wrong("a file mode such as '0644' (quote it) or 'u=rw,g=r,o=r'")
            }
        case .list:
            switch value {
            case .list: converted = value
            case .string(let s): converted = .list(s.split(separator: ",").map { .string(String($0).trimmingSpaces) })
            case .int, .float, .bool: converted = .list([value])
            default: throw wrong("a list")
            }
        }
        if !spec.choices.isEmpty, let text = converted.choiceText, !spec.choices.contains(text) {
            throw ArgumentError("argument '\(key)' of '\(module)' must be one of \(spec.choices.joined(separator: ", ")), not '\(text)'"
                + Suggestion.hint(for: text, in: spec.choices), argument: key)
        }
        return converted
    }

    /// Ansible's `boolean()`: true/false, yes/no, on/off, 1/0, y/n (any case).
    public static func boolean(_ value: Value) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        case .float(let d) where d == 0 || d == 1: return d == 1
        case .string(let s):
            switch s.lowercased().trimmingSpaces {
            case "yes", "on", "1", "true", "y", "t": return true
            case "no", "off", "0", "false", "n", "f", "": return false
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Typed access

    public subscript(name: String) -> Value? { values[name].flatMap { $0 == .null ? nil : $0 } }
    public func string(_ name: String) -> String? { self[name]?.string }
    public func int(_ name: String) -> Int? { if case .int(let i)? = self[name] { return i } else { return nil } }
    public func bool(_ name: String) -> Bool { self[name].flatMap(ModuleArguments.boolean) ?? false }
    public func list(_ name: String) -> [Value]? { self[name]?.list }
    public func strings(_ name: String) -> [String]? {
        self[name]?.list?.map { $0.string ?? $0.json }
    }
    public func dict(_ name: String) -> ValueDict? { self[name]?.dict }

    /// A mode argument as permission bits, resolving symbolic modes against `current`.
    public func mode(_ name: String, current: UInt32? = nil, isDirectory: Bool = false) throws -> UInt32? {
        switch self[name] {
        case .int(let i)?: return UInt32(i)
        case .string(let s)?:
            if s == "preserve" { return current }
            if let m = FileMode.parse(s) { return m }
            if let m = FileMode.applySymbolic(s, to: current ?? 0, isDirectory: isDirectory) { return m }
            throw ModuleError("'\(s)' is not a file mode", argument: name)
        default: return nil
        }
    }
}

extension Value {
    /// The text compared against `choices` (booleans as yes/no words are left alone).
    var choiceText: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: return nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}

extension Value {
    /// Whether a NUL byte is in any string inside (dictionary keys too).
    var containsNUL: Bool {
        switch self {
        case .string(let s): return s.utf8.contains(0)
        case .unsafe(let v): return v.containsNUL
        case .list(let items): return items.contains { $0.containsNUL }
        case .dict(let d): return d.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        default: return false
        }
    }
}
