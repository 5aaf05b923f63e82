import XCTest
@testable import Provisioner

/// Shared helpers for the template tests: variables written as YAML, results compared as Values.
enum TemplateTesting {
    static let sample = """
    n: 42
    f: 3.5
    s: Hello World
    e: ""
    z: null
    b: true
    l: [b, a, C, a]
    nums: [3, 1, 2, 10]
    d: {b: 2, a: 1, c: {x: [1, 2]}}
    users:
      - {name: bob, uid: 10, groups: [wheel, adm], enabled: true}
      - {name: al, uid: 5, groups: [], enabled: false}
      - {name: Cy, uid: 7, groups: [adm]}
    path: /etc/nginx/conf.d/site.conf
    """

    static func variables(_ yaml: String) -> ValueDict {
        guard let stream = try? YAMLStream(yaml, file: "vars.yml"), let root = stream.documents.first,
              case .dict(let d) = Value(root) else { return ValueDict() }
        return d
    }

    static func templar(_ yaml: String) -> Templar { Templar(variables: variables(yaml)) }
}

extension XCTestCase {
    /// Asserts that rendering `template` natively gives `expected`.
    func assertRenders(_ template: String, _ expected: Value, vars yaml: String = TemplateTesting.sample,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            let result = try TemplateTesting.templar(yaml).render(template)
            XCTAssertEqual(result, expected, "rendering \(template)", file: file, line: line)
        } catch {
            XCTFail("rendering \(template): unexpected error: \(error)", file: file, line: line)
        }
    }

    /// Asserts that a bare expression evaluates to `expected`.
    func assertEvaluates(_ expression: String, _ expected: Value, vars yaml: String = TemplateTesting.sample,
                         file: StaticString = #filePath, line: UInt = #line) {
        do {
            let result = try TemplateTesting.templar(yaml).evaluate(expression)
            XCTAssertEqual(result, expected, "evaluating \(expression)", file: file, line: line)
        } catch {
            XCTFail("evaluating \(expression): unexpected error: \(error)", file: file, line: line)
        }
    }

    /// The error that rendering `template` raises (a failure when there is none).
    func renderError(_ template: String, vars yaml: String = TemplateTesting.sample,
                     file: StaticString = #filePath, line: UInt = #line) -> TemplateError? {
        do {
            let result = try TemplateTesting.templar(yaml).render(template)
            XCTFail("rendering \(template): expected an error, got \(result)", file: file, line: line)
        } catch let error as TemplateError {
            return error
        } catch {
            XCTFail("rendering \(template): unexpected error type: \(error)", file: file, line: line)
        }
        return nil
    }

    /// Asserts that rendering fails with a message containing `fragment`.
    func assertRenderFails(_ template: String, _ fragment: String, vars yaml: String = TemplateTesting.sample,
                           file: StaticString = #filePath, line: UInt = #line) {
        guard let error = renderError(template, vars: yaml, file: file, line: line) else { return }
        XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
    }
}
