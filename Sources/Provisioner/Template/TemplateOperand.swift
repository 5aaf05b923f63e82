/// What an expression evaluates to: a value, or Ansible's lazy "undefined", which only
/// `default`, `mandatory`, `is defined`/`is undefined` and attribute chains may touch;
/// every other use raises its error.
enum TemplateOperand {
    case value(Value)
    case undefined(TemplateUndefined)

    /// The value, or the undefined's error.
    func get() throws -> Value {
        switch self {
        case .value(let v): return v
        case .undefined(let u):
            // Jinja2's implicit `else` of `a if b` is its lenient Undefined, which prints as nothing.
            if u.lenient { return .string("") }
            throw u.error
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }
}

struct TemplateUndefined {
    var message: String
    var variable: String?
    var offset: Int?
    var lenient = false

    var error: TemplateError { TemplateError(message, undefinedVariable: variable, at: offset) }

    /// Jinja2's wording for a missing attribute or item of `object`. Its variable is "" (none to name):
    /// still an undefined, which a task run later (a facts module) may define.
    static func missing(_ key: Value, of object: Value, at offset: Int) -> TemplateUndefined {
        let type = object.isNull ? "None" : "\(object.typeName) object"
        if case .string = key {
            return TemplateUndefined(message: "'\(type)' has no attribute \(key.pythonRepr)", variable: "", offset: offset)
        }
        return TemplateUndefined(message: "\(type) has no element \(key.pythonRepr)", variable: "", offset: offset)
    }
}
