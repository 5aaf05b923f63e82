/// A parsed Jinja2 expression. Offsets are byte positions in the template text,
/// kept so that runtime errors (an undefined name, a bad operand) can point at the culprit.
indirect enum TemplateExpression {
    case literal(Value)
    case name(String, at: Int)
    case list([TemplateExpression])
    /// Tuples behave as lists here; only their printed form would differ.
    case tuple([TemplateExpression])
    case dict([(key: TemplateExpression, value: TemplateExpression)])
    case attribute(TemplateExpression, String, at: Int)
    case item(TemplateExpression, TemplateExpression, at: Int)
    case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?, at: Int)
    case negate(TemplateExpression, at: Int)
    case plus(TemplateExpression, at: Int)
    case not(TemplateExpression)
    case and(TemplateExpression, TemplateExpression)
    case or(TemplateExpression, TemplateExpression)
    case binary(TemplateBinaryOperator, TemplateExpression, TemplateExpression, at: Int)
    case compare(TemplateExpression, [(op: TemplateCompareOperator, operand: TemplateExpression, at: Int)])
    case concat([TemplateExpression])
    case conditional(then: TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
    case filter(TemplateExpression, name: String, TemplateCallArguments, at: Int)
    case test(TemplateExpression, name: String, TemplateCallArguments, at: Int)
    case call(TemplateExpression, TemplateCallArguments, at: Int)
}

struct TemplateCallArguments {
    var positional: [TemplateExpression] = []
    var keywords: [(name: String, value: TemplateExpression)] = []
}

enum TemplateBinaryOperator: String {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum TemplateCompareOperator: String {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in` = "in", notIn = "not in"
}

/// A statement of a template: text, `{{ }}` output, and the `{% %}` blocks we support.
indirect enum TemplateNode {
    case text(String)
    case output(TemplateExpression, at: Int)
    case ifBlock(branches: [(condition: TemplateExpression, body: [TemplateNode])], otherwise: [TemplateNode])
    case forBlock(TemplateForLoop)
    case set(targets: [String], TemplateExpression, at: Int)
    /// `{% set ns.attribute = value %}` on a `namespace()`.
    case setAttribute(object: String, attribute: String, TemplateExpression, at: Int)
    case setBlock(target: String, body: [TemplateNode])
    case with(assignments: [(name: String, value: TemplateExpression)], body: [TemplateNode])
    case macro(TemplateMacro)
    /// `{% call name(...) %}body{% endcall %}`: the call, with the body `caller()` renders.
    case callBlock(TemplateExpression, body: [TemplateNode], at: Int)
}

struct TemplateForLoop {
    var targets: [String]
    var iterable: TemplateExpression
    var condition: TemplateExpression?
    var body: [TemplateNode]
    var otherwise: [TemplateNode]
    var at: Int
}

/// A template string parsed once and cached by its text.
struct ParsedTemplate {
    /// The newline-normalised text the offsets refer to.
    let source: [UInt8]
    let nodes: [TemplateNode]
    /// Trailing newlines of the original text; Ansible keeps them although Jinja2 drops one.
    let trailingNewlines: Int

    init(source: [UInt8], nodes: [TemplateNode], trailingNewlines: Int) {
        self.source = source
        self.nodes = nodes
        self.trailingNewlines = trailingNewlines
    }

    /// The expression when the whole template is one `{{ expr }}` (Ansible's native result).
    var singleExpression: TemplateExpression? {
        if nodes.count == 1, case .output(let e, _) = nodes[0] { return e }
        return nil
    }
}
