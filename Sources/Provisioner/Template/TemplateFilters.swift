import Foundation

/// A filter: the input (possibly undefined), its arguments, and the evaluator (for filters
/// that apply other filters or tests, like `map` and `select`).
typealias TemplateFilter = @Sendable (TemplateOperand, TemplateArguments, TemplateEvaluator) throws -> TemplateOperand

/// The filters Ansible users write: Jinja2's builtins and Ansible's core ones.
enum TemplateFilters {
    static func named(_ name: String) -> TemplateFilter? {
        if let filter = table[name] { return filter }
        for prefix in ["ansible.builtin.", "ansible.legacy."] where name.hasPrefix(prefix) {
            return table[String(name.dropFirst(prefix.count))]
        }
        return nil
    }

    static let names: [String] = table.keys.sorted()

    static let table: [String: TemplateFilter] = {
        var table = core
        for (name, filter) in collections { table[name] = filter }
        for (name, filter) in data { table[name] = filter }
        for (name, filter) in comments { table[name] = filter }
        return table
    }()

    /// A filter whose input must be defined.
    static func strict(_ body: @escaping @Sendable (Value, TemplateArguments) throws -> Value) -> TemplateFilter {
        { input, arguments, _ in .value(try body(try input.get(), arguments)) }
    }

    /// A filter of the input's text (`str(value)`), with no arguments beyond `names`.
    static func text(_ names: [String] = [], _ body: @escaping @Sendable (String, TemplateArguments) throws -> Value) -> TemplateFilter {
        strict { value, arguments in
            try arguments.check(names)
            return try body(value.pythonText, arguments)
        }
    }

    static let core: [String: TemplateFilter] = [
        "default": defaultFilter,
        "d": defaultFilter,
        "mandatory": { input, arguments, _ in
            try arguments.check(["msg"])
            guard case .undefined(let u) = input else { return input }
            if let message = try arguments.value(0, "msg") { throw TemplateError(message.pythonText) }
            var error = TemplateError(u.variable.map { "Mandatory variable '\($0)' not defined." } ?? "Mandatory variable not defined.")
            error.undefinedVariable = u.variable
            throw error
        },
        "string": text { s, _ in .string(s) },
        "lower": text { s, _ in .string(s.lowercased()) },
        "upper": text { s, _ in .string(s.uppercased()) },
        "capitalize": text { s, _ in .string(PythonString.capitalize(s)) },
        "title": text { s, _ in .string(PythonString.jinjaTitle(s)) },
        "trim": text(["chars"]) { s, arguments in .string(PythonString.strip(s, characters: try arguments.string(0, "chars"))) },
        "replace": text(["old", "new", "count"]) { s, arguments in
            guard let old = try arguments.value(0, "old"), let new = try arguments.value(1, "new") else {
                throw arguments.error("needs the text to replace and its replacement")
            }
            return .string(PythonString.replace(s, old.pythonText, new.pythonText, count: try arguments.int(2, "count")))
        },
        "split": strict { value, arguments in
            try arguments.check(["sep", "maxsplit"])
            guard case .string(let s) = value else { throw arguments.error("expects a string, got \(value.typeName)") }
            guard let parts = PythonString.split(s, separator: try arguments.string(0, "sep"), maxSplit: try arguments.int(1, "maxsplit", default: -1)) else {
                throw arguments.error("empty separator")
            }
            return .list(parts.map { .string($0) })
        },
        "indent": text(["width", "first", "blank"]) { s, arguments in
            let indentation: String
            switch try arguments.value(0, "width") {
            case .string(let w)?: indentation = w
            case nil: indentation = "    "
            default: indentation = String(repeating: " ", count: max(0, try arguments.int(0, "width", default: 4)))
            }
            let first = try arguments.bool(1, "first"), blank = try arguments.bool(2, "blank")
            var lines = PythonString.splitLines(s + "\n")
            var out: String
            if blank {
                out = lines.joined(separator: "\n" + indentation)
            } else {
                out = lines.isEmpty ? "" : lines.removeFirst()
                if !lines.isEmpty { out += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n") }
            }
            return .string(first ? indentation + out : out)
        },
        "center": text(["width"]) { s, arguments in
            let width = try arguments.int(0, "width", default: 80), length = PythonString.length(s)
            guard width > length else { return .string(s) }
            // Python puts the odd space on the right when the padding is odd and the text even.
            let total = width - length
            let left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        },
        "format": strict { value, arguments in
            if !arguments.keywords.isEmpty {
                guard arguments.positional.isEmpty else { throw arguments.error("can't handle positional and keyword arguments at the same time") }
                var d = ValueDict()
                for (name, operand) in arguments.keywords { d[name] = try operand.get() }
                return .string(try PythonFormat.percent(value.pythonText, .dict(d), at: nil))
            }
            return .string(try PythonFormat.percent(value.pythonText, .list(try arguments.rest(from: 0)), at: nil, tuple: true))
        },
        "int": strict { value, arguments in
            try arguments.check(["default", "base"])
            let fallback = try arguments.value(0, "default") ?? .int(0)
            return PythonNumbers.int(value, base: try arguments.int(1, "base", default: 10)).map { .int($0) } ?? fallback
        },
        "float": strict { value, arguments in
            try arguments.check(["default"])
            return try PythonNumbers.float(value).map { .float($0) } ?? (arguments.value(0, "default") ?? .float(0))
        },
        "bool": strict { value, arguments in
            try arguments.check([])
            return .bool(PythonNumbers.ansibleBool(value))
        },
        "abs": strict { value, arguments in
            try arguments.check([])
            switch value.pythonNumber {
            case .int(let i)?:
                guard i != .min else { throw TemplateError("integer overflow") }
                return .int(abs(i))
            case .float(let d)?: return .float(abs(d))
            case nil: throw TemplateError("bad operand type for abs(): '\(value.typeName)'")
            }
        },
        "round": strict { value, arguments in
            try arguments.check(["precision", "method"])
            guard let number = value.pythonNumber else { throw arguments.error("expects a number, got \(value.typeName)") }
            let precision = try arguments.int(0, "precision", default: 0)
            let method = try arguments.string(1, "method", default: "common")
            return try PythonNumbers.round(number, precision: precision, method: method, arguments: arguments)
        },
        "log": strict { value, arguments in
            try arguments.check(["base"])
            guard let x = value.pythonNumber?.double else { throw TemplateError("log() can only be used on numbers") }
            guard let base = try arguments.value(0, "base")?.pythonNumber?.double else { return .float(Foundation.log(x)) }
            return .float(base == 10 ? log10(x) : Foundation.log(x) / Foundation.log(base))
        },
        "pow": strict { value, arguments in
            try arguments.check(["y"])
            guard let x = value.pythonNumber?.double, let y = try arguments.value(0, "y")?.pythonNumber?.double else {
                throw TemplateError("pow() can only be used on numbers")
            }
            return .float(Foundation.pow(x, y))
        },
        "root": strict { value, arguments in
            try arguments.check(["base"])
            guard let x = value.pythonNumber?.double, x >= 0 else { throw TemplateError("root() can only be used on numbers") }
            let base = try arguments.value(0, "base")?.pythonNumber?.double ?? 2
            return .float(base == 2 ? x.squareRoot() : Foundation.pow(x, 1 / base))
        },
        "ternary": strict { value, arguments in
            try arguments.check(["true_val", "false_val", "none_val"])
            if value.isNull, let none = arguments.operand(2, "none_val"), case .value(let v) = none, !v.isNull { return v }
            let chosen = value.isTruthy ? arguments.operand(0, "true_val") : arguments.operand(1, "false_val")
            return try chosen?.get() ?? .null
        },
        "type_debug": strict { value, _ in .string(value.typeName) },
        "wordcount": text { s, _ in .int(PythonString.split(s, separator: nil)?.count ?? 0) },
    ]

    static let defaultFilter: TemplateFilter = { input, arguments, _ in
        try arguments.check(["default_value", "boolean"])
        let fallback = arguments.operand(0, "default_value") ?? .value(.string(""))
        if input.isUndefined { return fallback }
        // Jinja2 takes any truthy flag here (ansible-core 2.19 insists on a bool; older plays pass 1).
        if try arguments.bool(1, "boolean"), !(try input.get().isTruthy) { return fallback }
        return input
    }
}
