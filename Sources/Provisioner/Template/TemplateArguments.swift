/// The evaluated arguments of a filter, test, method or function call, read the way
/// Python binds them: by position or by keyword, with defaults.
struct TemplateArguments {
    /// How errors name the callee: "filter 'join'".
    let function: String
    var positional: [TemplateOperand]
    var keywords: [(name: String, value: TemplateOperand)]

    init(function: String, positional: [TemplateOperand] = [], keywords: [(name: String, value: TemplateOperand)] = []) {
        self.function = function
        self.positional = positional
        self.keywords = keywords
    }

    init(function: String, values: [Value]) {
        self.init(function: function, positional: values.map { .value($0) })
    }

    var count: Int { positional.count + keywords.count }

    func error(_ message: String) -> TemplateError { TemplateError("\(function): \(message)") }

    /// Rejects arguments beyond the parameters `names` (in positional order).
    func check(_ names: [String]) throws {
        guard positional.count <= names.count else {
            throw error("takes at most \(names.count) argument\(names.count == 1 ? "" : "s") (\(positional.count) given)")
        }
        for (index, keyword) in keywords.enumerated() {
            guard let position = names.firstIndex(of: keyword.name) else {
                throw error("unexpected keyword argument '\(keyword.name)'" + Suggestion.hint(for: keyword.name, in: names))
            }
            if position < positional.count || keywords[..<index].contains(where: { $0.name == keyword.name }) {
                throw error("got multiple values for argument '\(keyword.name)'")
            }
        }
    }

    func operand(_ index: Int, _ name: String) -> TemplateOperand? {
        if index < positional.count { return positional[index] }
        return keywords.last { $0.name == name }?.value
    }

    /// The argument's value; nil when not given (or given as `none`, which Python code treats alike).
    func value(_ index: Int, _ name: String) throws -> Value? {
        guard let operand = operand(index, name) else { return nil }
        let v = try operand.get()
        if v.isNull { return nil }
        return v
    }

    func value(_ index: Int, _ name: String, default fallback: Value) throws -> Value {
        try value(index, name) ?? fallback
    }

    func string(_ index: Int, _ name: String) throws -> String? {
        guard let v = try value(index, name) else { return nil }
        guard case .string(let s) = v else { throw error("argument '\(name)' must be a string, got \(v.typeName)") }
        return s
    }

    func string(_ index: Int, _ name: String, default fallback: String) throws -> String {
        try string(index, name) ?? fallback
    }

    func int(_ index: Int, _ name: String) throws -> Int? {
        guard let v = try value(index, name) else { return nil }
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .float(let d) where d == d.rounded() && abs(d) < 9e18: return Int(d)
        case .string(let s): if let i = Int(PythonString.strip(s)) { return i }
        default: break
        }
        throw error("argument '\(name)' must be an integer, got \(v.typeName)")
    }

    func int(_ index: Int, _ name: String, default fallback: Int) throws -> Int {
        try int(index, name) ?? fallback
    }

    /// Python truthiness of an optional flag.
    func bool(_ index: Int, _ name: String, default fallback: Bool = false) throws -> Bool {
        guard let operand = operand(index, name) else { return fallback }
        return try operand.get().isTruthy
    }

    /// Everything from position `index` on, as values.
    func rest(from index: Int) throws -> [Value] {
        guard index < positional.count else { return [] }
        return try positional[index...].map { try $0.get() }
    }

    /// The arguments after dropping the first `n` positional ones (for `select('test', args...)`).
    func dropping(_ n: Int, function name: String) -> TemplateArguments {
        TemplateArguments(function: name, positional: Array(positional.dropFirst(n)), keywords: keywords)
    }
}
