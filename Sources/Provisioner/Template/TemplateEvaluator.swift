/// Evaluates expressions against a `TemplarContext` (the variables) and local scopes
/// (loop variables, `{% set %}`), Python semantics throughout.
struct TemplateEvaluator {
    let context: TemplarContext
    /// Local scopes, innermost last. Shared by reference so `{{ list.append(x) }}` can update them.
    let locals = TemplateLocals()
    var scopes: [[String: Value]] {
        get { locals.scopes }
        nonmutating set { locals.scopes = newValue }
    }
    /// Running `for` loops, innermost last; `loop` is built from them only when read.
    var loops: [TemplateLoopState] = []
    /// Variables being rendered right now, to detect `a: "{{ b }}"`, `b: "{{ a }}"`.
    var resolving: [String] = []

    init(context: TemplarContext, resolving: [String] = []) {
        self.context = context
        self.resolving = resolving
    }

    func value(_ expression: TemplateExpression) throws -> Value {
        try evaluate(expression).get()
    }

    func truth(_ expression: TemplateExpression) throws -> Bool {
        try value(expression).isTruthy
    }

    func evaluate(_ expression: TemplateExpression) throws -> TemplateOperand {
        switch expression {
        case .literal(let v):
            return .value(v)
        case .name(let name, let at):
            return try lookup(name, at: at)
        case .list(let items), .tuple(let items):
            return .value(.list(try items.map { try value($0) }))
        case .dict(let pairs):
            var d = ValueDict()
            for pair in pairs { d[try value(pair.key).pythonText] = try value(pair.value) }
            return .value(.dict(d))
        case .attribute(.name("loop", _), let name, let at) where activeLoop != nil:
            // `loop.index` and friends without building the whole `loop` dict each iteration.
            if let v = activeLoop?.attribute(name) { return .value(v) }
            return .undefined(TemplateUndefined.missing(.string(name), of: .dict(ValueDict()), at: at))
        case .attribute(let base, let name, let at):
            let object = try evaluate(base)
            guard case .value(let v) = object else { return object }
            return attribute(name, of: v, at: at)
        case .item(let base, let index, let at):
            let object = try evaluate(base)
            guard case .value(let v) = object else { return object }
            return item(try value(index), of: v, at: at)
        case .slice(let base, let start, let stop, let step, let at):
            let v = try value(base)
            return .value(try slice(v, start: start.map(value), stop: stop.map(value), step: step.map(value), at: at))
        case .negate(let operand, let at):
            let v = try value(operand)
            switch v.pythonNumber {
            case .int(let i)?:
                guard i != .min else { throw TemplateError("integer overflow", at: at) }
                return .value(.int(-i))
            case .float(let d)?: return .value(.float(-d))
            case nil: throw TemplateError("bad operand type for unary -: '\(v.typeName)'", at: at)
            }
        case .plus(let operand, let at):
            let v = try value(operand)
            guard let n = v.pythonNumber else { throw TemplateError("bad operand type for unary +: '\(v.typeName)'", at: at) }
            return .value(n.value)
        case .not(let operand):
            return .value(.bool(!(try truth(operand))))
        case .and(let a, let b):
            let left = try value(a)
            return left.isTruthy ? try evaluate(b) : .value(left)
        case .or(let a, let b):
            let left = try value(a)
            return left.isTruthy ? .value(left) : try evaluate(b)
        case .binary(let op, let a, let b, let at):
            return .value(try TemplateOperators.apply(op, try value(a), try value(b), at: at))
        case .compare(let first, let ops):
            var left = try value(first)
            for (op, operand, at) in ops {
                let right = try value(operand)
                guard try TemplateOperators.compare(op, left, right, at: at) else { return .value(.bool(false)) }
                left = right
            }
            return .value(.bool(true))
        case .concat(let parts):
            var text = ""
            for part in parts { text += try value(part).pythonText }
            return .value(.string(text))
        case .conditional(let then, let condition, let otherwise):
            if try truth(condition) { return try evaluate(then) }
            if let otherwise { return try evaluate(otherwise) }
            return .undefined(TemplateUndefined(message: "the inline if-expression evaluated to false and no else section was defined",
                                                variable: nil, offset: nil, lenient: true))
        case .filter(let base, let name, let arguments, let at):
            return try applyFilter(name, to: try evaluate(base), arguments, at: at)
        case .test(let base, let name, let arguments, let at):
            return .value(.bool(try applyTest(name, to: try evaluate(base), arguments, at: at)))
        case .call(let callee, let arguments, let at):
            return try call(callee, arguments, at: at)
        }
    }

    // MARK: Names

    func lookup(_ name: String, at offset: Int) throws -> TemplateOperand {
        for depth in scopes.indices.reversed() {
            if let v = scopes[depth][name] { return .value(v) }
            if name == "loop", let loop = loops.last, loop.scopeDepth == depth { return .value(.dict(loop.dictionary)) }
        }
        do {
            if let v = try context.variable(name, evaluator: self) { return .value(v) }
        } catch var error as TemplateError {
            // An error inside another variable's template is reported where that variable is used.
            error.offset = offset
            error.line = nil
            error.column = nil
            throw error
        }
        if name == "omit" { return .value(.string(Templar.omit)) }
        return .undefined(TemplateUndefined(message: "'\(name)' is undefined", variable: name, offset: offset))
    }

    // MARK: Attributes and items

    func attribute(_ name: String, of object: Value, at offset: Int) -> TemplateOperand {
        if case .dict(let d) = object, let v = d[name] { return .value(v) }
        return .undefined(TemplateUndefined.missing(.string(name), of: object, at: offset))
    }

    func item(_ key: Value, of object: Value, at offset: Int) -> TemplateOperand {
        switch (object, key) {
        case (.dict(let d), .string(let k)):
            if let v = d[k] { return .value(v) }
        case (.dict(let d), .int), (.dict(let d), .float), (.dict(let d), .bool):
            // Keys arrive as text from YAML and JSON; `d[1]` finds the key written `1:`.
            if let v = d[key.pythonText] { return .value(v) }
        case (.list(let l), .int), (.list(let l), .bool):
            if let i = Self.index(key, count: l.count) { return .value(l[i]) }
        case (.string(let s), .int), (.string(let s), .bool):
            let scalars = Array(s.unicodeScalars)
            if let i = Self.index(key, count: scalars.count) { return .value(.string(String(scalars[i]))) }
        case (_, .string(let name)):
            return attribute(name, of: object, at: offset)
        default:
            break
        }
        return .undefined(TemplateUndefined.missing(key, of: object, at: offset))
    }

    /// A Python index (negative counts from the end) checked against `count`.
    static func index(_ key: Value, count: Int) -> Int? {
        guard case .int(var i)? = key.pythonNumber else { return nil }
        if i < 0 { i += count }
        return i >= 0 && i < count ? i : nil
    }

    func slice(_ object: Value, start: Value?, stop: Value?, step: Value?, at offset: Int) throws -> Value {
        func bound(_ v: Value?) throws -> Int? {
            guard let v, !v.isNull else { return nil }
            guard case .int(let i)? = v.pythonNumber else {
                throw TemplateError("slice indices must be integers or None, not \(v.typeName)", at: offset)
            }
            return i
        }
        let step = try bound(step) ?? 1
        guard step != 0 else { throw TemplateError("slice step cannot be zero", at: offset) }
        let (lower, upper) = (try bound(start), try bound(stop))
        func indices(_ count: Int) -> [Int] {
            func clamp(_ i: Int?, _ defaultValue: Int) -> Int {
                guard var i else { return defaultValue }
                if i < 0 { i += count }
                return step > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let from = clamp(lower, step > 0 ? 0 : count - 1)
            let to = clamp(upper, step > 0 ? count : -1)
            return Array(stride(from: from, to: to, by: step))
        }
        switch object {
        case .list(let l): return .list(indices(l.count).map { l[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        default:
            throw TemplateError("'\(object.typeName)' object is not subscriptable", at: offset)
        }
    }

    // MARK: Filters, tests, calls

    func arguments(_ call: TemplateCallArguments, for function: String) throws -> TemplateArguments {
        TemplateArguments(function: function,
                          positional: try call.positional.map { try evaluate($0) },
                          keywords: try call.keywords.map { ($0.name, try evaluate($0.value)) })
    }

    func applyFilter(_ name: String, to input: TemplateOperand, _ call: TemplateCallArguments, at offset: Int) throws -> TemplateOperand {
        let arguments = try self.arguments(call, for: "filter '\(name)'")
        return try applyFilter(name, to: input, arguments, at: offset)
    }

    func applyFilter(_ name: String, to input: TemplateOperand, _ arguments: TemplateArguments, at offset: Int) throws -> TemplateOperand {
        guard let filter = TemplateFilters.named(name) else {
            throw TemplateError("no filter named '\(name)'" + Suggestion.hint(for: name, in: TemplateFilters.names), at: offset)
        }
        do {
            return try filter(input, arguments, self)
        } catch var error as TemplateError {
            if error.offset == nil { error.offset = offset }
            throw error
        }
    }

    func applyTest(_ name: String, to input: TemplateOperand, _ call: TemplateCallArguments, at offset: Int) throws -> Bool {
        let arguments = try self.arguments(call, for: "test '\(name)'")
        return try applyTest(name, to: input, arguments, at: offset)
    }

    func applyTest(_ name: String, to input: TemplateOperand, _ arguments: TemplateArguments, at offset: Int) throws -> Bool {
        guard let test = TemplateTests.named(name) else {
            throw TemplateError("no test named '\(name)'" + Suggestion.hint(for: name, in: TemplateTests.names), at: offset)
        }
        do {
            return try test(input, arguments, self)
        } catch var error as TemplateError {
            if error.offset == nil { error.offset = offset }
            throw error
        }
    }

    func call(_ callee: TemplateExpression, _ call: TemplateCallArguments, at offset: Int) throws -> TemplateOperand {
        if case .name(let name, let nameOffset) = callee, let macro = macro(named: name) {
            do {
                return try self.call(macro, try self.arguments(call, for: "macro '\(name)'"))
            } catch var error as TemplateError {
                if error.offset == nil { error.offset = nameOffset }
                throw error
            }
        }
        switch callee {
        case .name("caller", _) where !isLocal("caller") && !locals.macroState.callers.isEmpty:
            return try callCaller()
        case .name(let name, let nameOffset) where TemplateGlobals.isFunction(name) && !isLocal(name):
            let arguments = try self.arguments(call, for: "\(name)()")
            do {
                return try TemplateGlobals.call(name, arguments, evaluator: self)
            } catch var error as TemplateError {
                if error.offset == nil { error.offset = nameOffset }
                throw error
            }
        case .attribute(.name("loop", _), "cycle", _) where activeLoop != nil:
            let arguments = try self.arguments(call, for: "loop.cycle()")
            guard let index = activeLoop?.index, !arguments.positional.isEmpty else {
                throw TemplateError("no items for cycling given", at: offset)
            }
            return arguments.positional[index % arguments.positional.count]
        case .attribute(.name(let name, _), let method, let at) where TemplateMethods.mutating.contains(method):
            let arguments = try self.arguments(call, for: "\(method)()")
            do {
                return .value(try mutate(name, method, arguments))
            } catch var error as TemplateError {
                if error.offset == nil { error.offset = at }
                throw error
            }
        case .attribute(let base, let method, let at):
            let object = try value(base)
            let arguments = try self.arguments(call, for: "\(method)()")
            do {
                return .value(try TemplateMethods.call(method, on: object, arguments))
            } catch var error as TemplateError {
                if error.offset == nil { error.offset = at }
                throw error
            }
        default:
            let target = try value(callee)
            throw TemplateError("'\(target.typeName)' object is not callable", at: offset)
        }
    }

    /// `list.append(x)` and friends: Jinja2 templates mutate lists and dicts in place, so the
    /// variable is updated in its scope (a playbook variable is first copied into the template's scope).
    func mutate(_ name: String, _ method: String, _ arguments: TemplateArguments) throws -> Value {
        var depth = scopes.lastIndex { $0[name] != nil }
        if depth == nil, !scopes.isEmpty, let global = try context.variable(name, evaluator: self) {
            scopes[0][name] = global
            depth = 0
        }
        guard let depth, let current = scopes[depth][name] else {
            throw TemplateError("'\(name)' is undefined", undefinedVariable: name)
        }
        let (updated, result) = try TemplateMethods.mutate(current, method, arguments)
        scopes[depth][name] = updated
        return result
    }

    func isLocal(_ name: String) -> Bool {
        scopes.contains { $0[name] != nil } || (name == "loop" && activeLoop != nil)
    }

    /// The innermost loop, unless a local variable named `loop` hides it.
    var activeLoop: TemplateLoopState? {
        guard let loop = loops.last else { return nil }
        for depth in loop.scopeDepth..<scopes.count where scopes[depth]["loop"] != nil { return nil }
        return loop
    }
}
