/// Jinja2 macros: `{% macro name(a, b='x') %}...{% endmacro %}`, called as `{{ name(1, b=2) }}`, and
/// `{% call name(...) %}body{% endcall %}` whose body the macro renders with `caller()`.
/// A macro sees the template's variables, its top-level `set`s and its arguments; it returns its text.
struct TemplateMacro {
    var name: String
    var parameters: [(name: String, defaultValue: TemplateExpression?)]
    var body: [TemplateNode]
    var at: Int
}

extension TemplateParser {
    /// After `macro`: `name(params) %} body {% endmacro`.
    mutating func parseMacro(at offset: Int) throws -> TemplateNode {
        let name = try expectName()
        var parameters: [(name: String, defaultValue: TemplateExpression?)] = []
        try expect(.lparen)
        while !isOp(.rparen) {
            if !parameters.isEmpty { try expect(.comma) }
            if isOp(.mul) || isOp(.pow) { throw TemplateError("*args and **kwargs in macro definitions are not supported", at: current.offset) }
            let parameter = try expectName()
            if skipOp(.assign) {
                parameters.append((parameter, try parseExpression()))
            } else {
                guard parameters.allSatisfy({ $0.defaultValue == nil }) else {
                    throw TemplateError("non-default argument follows default argument", at: current.offset)
                }
                parameters.append((parameter, nil))
            }
        }
        try expect(.rparen)
        try expectBlockEnd()
        let body = try subparse(until: ("macro", ["endmacro"]))
        advance()
        if case .name = current.kind { advance() }  // `{% endmacro name %}`
        return .macro(TemplateMacro(name: name, parameters: parameters, body: body, at: offset))
    }

    /// After `call`: `name(args) %} body {% endcall`.
    mutating func parseCallBlock(at offset: Int) throws -> TemplateNode {
        if isOp(.lparen) { throw TemplateError("call blocks with caller arguments ({% call(x) ... %}) are not supported", at: current.offset) }
        let callee = try parseExpression()
        guard case .call = callee else { throw TemplateError("expected a macro call after 'call'", at: offset) }
        try expectBlockEnd()
        let body = try subparse(until: ("call", ["endcall"]))
        advance()
        return .callBlock(callee, body: body, at: offset)
    }
}

/// What a render keeps for macros: the defined ones and the call-block bodies `caller()` renders.
struct TemplateMacroState {
    var macros: [String: TemplateMacro] = [:]
    var callers: [(body: [TemplateNode], scopes: [[String: Value]])] = []
    var depth = 0
    /// Macros may call macros (themselves too) this deep.
    static let maxDepth = 100
}

extension TemplateEvaluator {
    func macro(named name: String) -> TemplateMacro? {
        isLocal(name) ? nil : locals.macroState.macros[name]
    }

    /// Calls a macro: arguments bound by position, keyword or default, the body rendered in a
    /// scope of its own over the template's top-level one.
    func call(_ macro: TemplateMacro, _ arguments: TemplateArguments, caller: [TemplateNode]? = nil) throws -> TemplateOperand {
        guard arguments.positional.count <= macro.parameters.count else {
            throw TemplateError("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)")
        }
        var scope: [String: Value] = [:]
        for (index, operand) in arguments.positional.enumerated() { scope[macro.parameters[index].name] = try operand.get() }
        for (name, operand) in arguments.keywords {
            guard let index = macro.parameters.firstIndex(where: { $0.name == name }) else {
                throw TemplateError("macro '\(macro.name)' takes no keyword argument '\(name)'")
            }
            guard index >= arguments.positional.count else { throw TemplateError("macro '\(macro.name)' got multiple values for argument '\(name)'") }
            scope[name] = try operand.get()
        }
        guard locals.macroState.depth < TemplateMacroState.maxDepth else {
            throw TemplateError("macro '\(macro.name)': macros call each other more than \(TemplateMacroState.maxDepth) deep")
        }
        let saved = locals.scopes
        locals.macroState.depth += 1
        if let caller { locals.macroState.callers.append((caller, saved)) }
        defer {
            locals.scopes = saved
            locals.macroState.depth -= 1
            if caller != nil { locals.macroState.callers.removeLast() }
        }
        var inner = self
        inner.loops = []
        locals.scopes = [saved.first ?? [:], scope]
        // Defaults are evaluated at call time, seeing the arguments before them.
        for parameter in macro.parameters where scope[parameter.name] == nil {
            guard let defaultValue = parameter.defaultValue else {
                locals.scopes[1][parameter.name] = nil
                continue
            }
            locals.scopes[1][parameter.name] = try inner.value(defaultValue)
        }
        var out = ""
        var budget = Self.maxIterations
        try inner.render(macro.body, into: &out, budget: &budget)
        return .value(.string(out))
    }

    /// `caller()` inside a macro called from a `{% call %}` block: that block's body, in the caller's scope.
    func callCaller() throws -> TemplateOperand {
        guard let caller = locals.macroState.callers.last else { throw TemplateError("'caller' is undefined", undefinedVariable: "caller") }
        let saved = locals.scopes
        let savedCallers = locals.macroState.callers
        locals.scopes = caller.scopes
        locals.macroState.callers.removeLast()
        defer {
            locals.scopes = saved
            locals.macroState.callers = savedCallers
        }
        var inner = self
        inner.loops = []
        var out = ""
        var budget = Self.maxIterations
        try inner.render(caller.body, into: &out, budget: &budget)
        return .value(.string(out))
    }
}
