/// The `{% %}` statements Ansible templates use: if/elif/else, for (with `else`, a filter
/// condition and tuple targets), set (plain, tuple, block and namespace attribute) and with.
extension TemplateParser {
    /// Parses a whole template token stream.
    static func parseTemplate(_ tokens: [TemplateToken]) throws -> [TemplateNode] {
        var parser = TemplateParser(tokens: tokens)
        return try parser.subparse(until: nil)
    }

    /// Parses a bare expression (the whole token stream must be one expression).
    static func parseExpression(_ tokens: [TemplateToken]) throws -> TemplateExpression {
        var parser = TemplateParser(tokens: tokens)
        let expression = try parser.parseTuple()
        guard case .eof = parser.current.kind else { throw parser.unexpected(expected: "end of expression") }
        return expression
    }

    /// Nodes up to one of `ends` (left as the current token, after its `{%`), or the end of the template.
    mutating func subparse(until ends: (tag: String, names: [String])?) throws -> [TemplateNode] {
        if let ends { endTagStack.append((ends.tag, ends.names)) }
        defer { if ends != nil { endTagStack.removeLast() } }
        var body: [TemplateNode] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                advance()
                body.append(.text(text))
            case .variableBegin:
                advance()
                let expression = try parseTuple()
                guard case .variableEnd = current.kind else { throw unexpected(expected: "'}}' (end of print statement)") }
                advance()
                body.append(.output(expression, at: token.offset))
            case .blockBegin:
                advance()
                if let ends, case .name(let n) = current.kind, ends.names.contains(n) { return body }
                body.append(try parseStatement())
                guard case .blockEnd = current.kind else { throw unexpected(expected: "'%}' (end of statement block)") }
                advance()
            case .eof:
                if ends != nil { throw unclosed(at: token.offset) }
                return body
            default:
                throw unexpected()
            }
        }
    }

    func unclosed(at offset: Int) -> TemplateError {
        TemplateError("Unexpected end of template." + lookingFor(), at: offset)
    }

    func lookingFor() -> String {
        guard let innermost = endTagStack.last else { return "" }
        let names = innermost.ends.map { "'\($0)'" }.joined(separator: " or ")
        return " Jinja was looking for the following tags: \(names). The innermost block that needs to be closed is '\(innermost.tag)'."
    }

    mutating func parseStatement() throws -> TemplateNode {
        let token = current
        guard case .name(let tag) = token.kind else { throw TemplateError("tag name expected", at: token.offset) }
        try nest()
        defer { depth -= 1 }
        switch tag {
        case "if": advance(); return try parseIf()
        case "for": advance(); return try parseFor(at: token.offset)
        case "set": advance(); return try parseSet(at: token.offset)
        case "with": advance(); return try parseWith()
        case "macro": advance(); return try parseMacro(at: token.offset)
        case "call": advance(); return try parseCallBlock(at: token.offset)
        case "include", "import", "from", "extends", "block", "filter", "do",
             "break", "continue", "autoescape", "trans", "pluralize":
            throw TemplateError("the '\(tag)' tag is not supported here", at: token.offset)
        default:
            let known = ["if", "for", "set", "with", "macro", "call", "elif", "else", "endif", "endfor", "endset", "endwith",
                         "endmacro", "endcall", "raw", "endraw"]
            let hint = endTagStack.isEmpty ? Suggestion.hint(for: tag, in: known) : ""
            throw TemplateError("Encountered unknown tag '\(tag)'.\(hint)" + lookingFor(), at: token.offset)
        }
    }

    mutating func parseIf() throws -> TemplateNode {
        var branches: [(condition: TemplateExpression, body: [TemplateNode])] = []
        var condition = try parseTuple(withCondexpr: false)
        while true {
            try expectBlockEnd()
            let body = try subparse(until: ("if", ["elif", "else", "endif"]))
            branches.append((condition, body))
            let tag = advance()
            if isName("elif", tag) {
                condition = try parseTuple(withCondexpr: false)
                continue
            }
            if isName("else", tag) {
                try expectBlockEnd()
                let otherwise = try subparse(until: ("if", ["endif"]))
                advance()
                return .ifBlock(branches: branches, otherwise: otherwise)
            }
            return .ifBlock(branches: branches, otherwise: [])
        }
    }

    mutating func parseFor(at offset: Int) throws -> TemplateNode {
        let targets = try parseTargets(endNames: ["in"])
        guard skipName("in") else { throw unexpected(expected: "'in'") }
        let iterable = try parseTuple(withCondexpr: false, endNames: ["recursive", "if"])
        let condition = skipName("if") ? try parseExpression() : nil
        if isName("recursive") { throw TemplateError("recursive loops are not supported", at: current.offset) }
        try expectBlockEnd()
        let body = try subparse(until: ("for", ["endfor", "else"]))
        var otherwise: [TemplateNode] = []
        if isName("else", advance()) {
            try expectBlockEnd()
            otherwise = try subparse(until: ("for", ["endfor"]))
            advance()
        }
        return .forBlock(TemplateForLoop(targets: targets, iterable: iterable, condition: condition,
                                         body: body, otherwise: otherwise, at: offset))
    }

    mutating func parseSet(at offset: Int) throws -> TemplateNode {
        if case .name(let object) = current.kind, isOp(.dot, peek()) {
            advance()
            advance()
            let attribute = try expectName()
            try expect(.assign)
            return .setAttribute(object: object, attribute: attribute, try parseTuple(), at: offset)
        }
        let targets = try parseTargets(endNames: [])
        if skipOp(.assign) { return .set(targets: targets, try parseTuple(), at: offset) }
        guard targets.count == 1 else { throw unexpected(expected: "'='") }
        try expectBlockEnd()
        let body = try subparse(until: ("set", ["endset"]))
        advance()
        return .setBlock(target: targets[0], body: body)
    }

    mutating func parseWith() throws -> TemplateNode {
        var assignments: [(name: String, value: TemplateExpression)] = []
        while !isBlockEnd {
            if !assignments.isEmpty { try expect(.comma) }
            let name = try expectName()
            try expect(.assign)
            assignments.append((name, try parseExpression()))
        }
        try expectBlockEnd()
        let body = try subparse(until: ("with", ["endwith"]))
        advance()
        return .with(assignments: assignments, body: body)
    }

    /// Assignment targets: `x`, `k, v` or `(k, v)`.
    mutating func parseTargets(endNames: [String]) throws -> [String] {
        let parenthesised = skipOp(.lparen)
        var names: [String] = []
        repeat {
            if parenthesised, isOp(.rparen) { break }
            if case .name(let n) = current.kind, endNames.contains(n), !names.isEmpty { break }
            guard case .name(let n) = current.kind, !["true", "false", "none", "True", "False", "None"].contains(n) else {
                throw unexpected(expected: "a variable name to assign to")
            }
            advance()
            names.append(n)
        } while skipOp(.comma)
        if parenthesised { try expect(.rparen) }
        return names
    }

    var isBlockEnd: Bool {
        if case .blockEnd = current.kind { return true }
        return false
    }

    /// Consumes the `%}` that closes an opening tag.
    mutating func expectBlockEnd() throws {
        guard isBlockEnd else { throw unexpected(expected: "'%}' (end of statement block)") }
        advance()
    }
}
