/// Jinja2's expression grammar, rule for rule (jinja2/parser.py), so precedence matches:
/// `x if c else y` < `or` < `and` < `not` < comparisons and `in` < `+ -` < `~` < `* / // %`
/// < `**` < unary `-` < filters `|` and tests `is` < subscripts, attributes and calls.
struct TemplateParser {
    var tokens: [TemplateToken]
    var index = 0
    /// Current nesting; bounded so hostile input cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 100
    /// Block tags that close the constructs now open, innermost last (for error messages).
    var endTagStack: [(tag: String, ends: [String])] = []

    init(tokens: [TemplateToken]) { self.tokens = tokens }

    var current: TemplateToken { tokens[index] }

    func peek(_ ahead: Int = 1) -> TemplateToken { tokens[min(index + ahead, tokens.count - 1)] }

    @discardableResult
    mutating func advance() -> TemplateToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isName(_ word: String, _ token: TemplateToken? = nil) -> Bool {
        if case .name(let n) = (token ?? current).kind { return n == word }
        return false
    }

    func isOp(_ op: TemplateOperator, _ token: TemplateToken? = nil) -> Bool {
        if case .op(let o) = (token ?? current).kind { return o == op }
        return false
    }

    mutating func skipName(_ word: String) -> Bool {
        guard isName(word) else { return false }
        advance()
        return true
    }

    mutating func skipOp(_ op: TemplateOperator) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    mutating func expect(_ op: TemplateOperator) throws {
        guard skipOp(op) else { throw unexpected(expected: "'\(op.rawValue)'") }
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw unexpected(expected: "a name") }
        advance()
        return n
    }

    func unexpected(expected: String? = nil) -> TemplateError {
        let got = Self.describe(current)
        if let expected { return TemplateError("expected \(expected), got '\(got)'", at: current.offset) }
        if case .eof = current.kind { return TemplateError("unexpected end of template", at: current.offset) }
        return TemplateError("unexpected '\(got)'", at: current.offset)
    }

    static func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .name(let n): return n
        case .op(let o): return o.rawValue
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .data: return "template data / text"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .eof: return "end of template"
        }
    }

    mutating func nest() throws {
        depth += 1
        if depth > Self.maxDepth { throw TemplateError("expression nested too deeply", at: current.offset) }
    }

    // MARK: Expressions

    /// An expression, or a tuple when commas separate several (`{{ a, b }}`, `for k, v in ...`).
    mutating func parseTuple(withCondexpr: Bool = true, endNames: [String] = [], explicitParentheses: Bool = false) throws -> TemplateExpression {
        var items: [TemplateExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(.comma) }
            if isTupleEnd(endNames) { break }
            items.append(try parseExpression(withCondexpr: withCondexpr))
            if isOp(.comma) { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw unexpected(expected: "an expression") }
        }
        return .tuple(items)
    }

    func isTupleEnd(_ endNames: [String]) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(.rparen): return true
        case .name(let n): return endNames.contains(n)
        default: return false
        }
    }

    mutating func parseExpression(withCondexpr: Bool = true) throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        try nest()
        return withCondexpr ? try parseConditional() : try parseOr()
    }

    mutating func parseConditional() throws -> TemplateExpression {
        var expr = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseConditional() : nil
            expr = .conditional(then: expr, condition: condition, otherwise: otherwise)
        }
        return expr
    }

    mutating func parseOr() throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parseAnd()
        while skipName("or") {
            try nest()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parseNot()
        while skipName("and") {
            try nest()
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> TemplateExpression {
        if isName("not") {
            advance()
            let saved = depth
            defer { depth = saved }
            try nest()
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        let expr = try parseMath1()
        var ops: [(op: TemplateCompareOperator, operand: TemplateExpression, at: Int)] = []
        while true {
            let at = current.offset
            let op: TemplateCompareOperator
            switch current.kind {
            case .op(.eq): op = .equal
            case .op(.ne): op = .notEqual
            case .op(.lt): op = .less
            case .op(.lteq): op = .lessOrEqual
            case .op(.gt): op = .greater
            case .op(.gteq): op = .greaterOrEqual
            case .name("in"): op = .in
            case .name("not") where isName("in", peek()):
                advance()
                op = .notIn
            default:
                return ops.isEmpty ? expr : .compare(expr, ops)
            }
            advance()
            try nest()
            ops.append((op, try parseMath1(), at))
        }
    }

    mutating func parseMath1() throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parseConcat()
        while true {
            let at = current.offset
            let op: TemplateBinaryOperator
            if skipOp(.add) { op = .add } else if skipOp(.sub) { op = .subtract } else { return left }
            try nest()
            left = .binary(op, left, try parseConcat(), at: at)
        }
    }

    mutating func parseConcat() throws -> TemplateExpression {
        var parts = [try parseMath2()]
        while skipOp(.tilde) { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : .concat(parts)
    }

    mutating func parseMath2() throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parsePow()
        while true {
            let at = current.offset
            let op: TemplateBinaryOperator
            switch current.kind {
            case .op(.mul): op = .multiply
            case .op(.div): op = .divide
            case .op(.floordiv): op = .floorDivide
            case .op(.mod): op = .modulo
            default: return left
            }
            advance()
            try nest()
            left = .binary(op, left, try parsePow(), at: at)
        }
    }

    mutating func parsePow() throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        var left = try parseUnary()
        while isOp(.pow) {
            let at = advance().offset
            try nest()
            left = .binary(.power, left, try parseUnary(), at: at)
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> TemplateExpression {
        let saved = depth
        defer { depth = saved }
        try nest()
        let at = current.offset
        var node: TemplateExpression
        if skipOp(.sub) {
            node = .negate(try parseUnary(withFilter: false), at: at)
        } else if skipOp(.add) {
            node = .plus(try parseUnary(withFilter: false), at: at)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    mutating func parsePrimary() throws -> TemplateExpression {
        let token = current
        switch token.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.null)
            default: return .name(n, at: token.offset)
            }
        case .string(let s):
            advance()
            var text = s
            // Adjacent literals join, as in Python: 'a' 'b' == 'ab'.
            while case .string(let more) = current.kind {
                text += more
                advance()
            }
            return .literal(.string(text))
        case .integer(let i):
            advance()
            return .literal(.int(i))
        case .float(let d):
            advance()
            return .literal(.float(d))
        case .op(.lparen):
            advance()
            let node = try parseTuple(explicitParentheses: true)
            try expect(.rparen)
            return node
        case .op(.lbracket):
            return try parseList()
        case .op(.lbrace):
            return try parseDict()
        default:
            throw unexpected()
        }
    }

    mutating func parseList() throws -> TemplateExpression {
        try expect(.lbracket)
        var items: [TemplateExpression] = []
        while !isOp(.rbracket) {
            if !items.isEmpty { try expect(.comma) }
            if isOp(.rbracket) { break }
            items.append(try parseExpression())
        }
        try expect(.rbracket)
        if let literals = Self.literalValues(items) { return .literal(.list(literals)) }
        return .list(items)
    }

    mutating func parseDict() throws -> TemplateExpression {
        try expect(.lbrace)
        var pairs: [(key: TemplateExpression, value: TemplateExpression)] = []
        while !isOp(.rbrace) {
            if !pairs.isEmpty { try expect(.comma) }
            if isOp(.rbrace) { break }
            let key = try parseExpression()
            try expect(.colon)
            pairs.append((key, try parseExpression()))
        }
        try expect(.rbrace)
        return .dict(pairs)
    }

    /// Constant lists fold to one literal, so `loop: [a, b]`-style constants cost nothing at run time.
    static func literalValues(_ items: [TemplateExpression]) -> [Value]? {
        var values: [Value] = []
        values.reserveCapacity(items.count)
        for item in items {
            guard case .literal(let v) = item else { return nil }
            values.append(v)
        }
        return values
    }

    mutating func parsePostfix(_ start: TemplateExpression) throws -> TemplateExpression {
        var node = start
        var chain = 0
        while true {
            switch current.kind {
            case .op(.dot), .op(.lbracket): node = try parseSubscript(node)
            case .op(.lparen): node = .call(node, try parseCallArguments(), at: current.offset)
            default: return node
            }
            chain += 1
            if depth + chain > Self.maxDepth { throw TemplateError("expression nested too deeply", at: current.offset) }
        }
    }

    mutating func parseFilterExpression(_ start: TemplateExpression) throws -> TemplateExpression {
        var node = start
        var chain = 0
        while true {
            switch current.kind {
            case .op(.pipe): node = try parseFilter(node)
            case .name("is"): node = try parseTest(node)
            case .op(.lparen): node = .call(node, try parseCallArguments(), at: current.offset)
            default: return node
            }
            chain += 1
            if depth + chain > Self.maxDepth { throw TemplateError("expression nested too deeply", at: current.offset) }
        }
    }

    mutating func parseSubscript(_ node: TemplateExpression) throws -> TemplateExpression {
        let token = advance()
        if isOp(.dot, token) {
            let attribute = current
            advance()
            switch attribute.kind {
            case .name(let n): return .attribute(node, n, at: attribute.offset)
            case .integer(let i): return .item(node, .literal(.int(i)), at: attribute.offset)
            default: throw TemplateError("expected name or number", at: attribute.offset)
            }
        }
        var arguments: [TemplateExpression] = []
        while !isOp(.rbracket) {
            if !arguments.isEmpty { try expect(.comma) }
            arguments.append(try parseSubscribed(of: node, at: token.offset))
        }
        try expect(.rbracket)
        guard arguments.count == 1 else { return .item(node, .tuple(arguments), at: token.offset) }
        if case .slice = arguments[0] { return arguments[0] }
        return .item(node, arguments[0], at: token.offset)
    }

    /// One subscript: an index or a `start:stop:step` slice (returned already applied to `node`).
    mutating func parseSubscribed(of node: TemplateExpression, at: Int) throws -> TemplateExpression {
        var start: TemplateExpression?
        if isOp(.colon) {
            advance()
        } else {
            let e = try parseExpression()
            guard isOp(.colon) else { return e }
            advance()
            start = e
        }
        var stop: TemplateExpression?
        if !isOp(.colon), !isOp(.rbracket), !isOp(.comma) { stop = try parseExpression() }
        var step: TemplateExpression?
        if skipOp(.colon), !isOp(.rbracket), !isOp(.comma) { step = try parseExpression() }
        return .slice(node, start: start, stop: stop, step: step, at: at)
    }

    mutating func parseCallArguments() throws -> TemplateCallArguments {
        try expect(.lparen)
        var arguments = TemplateCallArguments()
        var needsComma = false
        while !isOp(.rparen) {
            if needsComma {
                try expect(.comma)
                if isOp(.rparen) { break }
            }
            if isOp(.mul) || isOp(.pow) {
                throw TemplateError("*args and **kwargs in calls are not supported", at: current.offset)
            }
            if case .name(let n) = current.kind, isOp(.assign, peek()) {
                advance()
                advance()
                arguments.keywords.append((n, try parseExpression()))
            } else {
                guard arguments.keywords.isEmpty else {
                    throw TemplateError("invalid syntax for function call expression: positional argument after keyword argument", at: current.offset)
                }
                arguments.positional.append(try parseExpression())
            }
            needsComma = true
        }
        try expect(.rparen)
        return arguments
    }

    mutating func parseFilter(_ node: TemplateExpression) throws -> TemplateExpression {
        advance()  // |
        let at = current.offset
        var name = try expectName()
        while skipOp(.dot) { name += "." + (try expectName()) }
        let arguments = isOp(.lparen) ? try parseCallArguments() : TemplateCallArguments()
        return .filter(node, name: name, arguments, at: at)
    }

    mutating func parseTest(_ node: TemplateExpression) throws -> TemplateExpression {
        advance()  // is
        let negated = skipName("not")
        let at = current.offset
        var name = try expectName()
        while skipOp(.dot) { name += "." + (try expectName()) }
        var arguments = TemplateCallArguments()
        switch current.kind {
        case .op(.lparen):
            arguments = try parseCallArguments()
        case .name("else"), .name("or"), .name("and"):
            break
        case .name("is"):
            throw TemplateError("You cannot chain multiple tests with is", at: current.offset)
        case .name, .string, .integer, .float, .op(.lbracket), .op(.lbrace):
            // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
            arguments.positional = [try parsePostfix(try parsePrimary())]
        default:
            break
        }
        let test = TemplateExpression.test(node, name: name, arguments, at: at)
        return negated ? .not(test) : test
    }
}
