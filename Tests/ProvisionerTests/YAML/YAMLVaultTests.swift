import XCTest
@testable import Provisioner

/// Issue 9 §1: Ansible Vault is not implemented, so a vaulted value is refused where it is
/// written (file:line:col), never passed on as its ciphertext. On main at 0e43e5c `!vault` values
/// were read as plain strings holding the ciphertext.
final class YAMLVaultTests: XCTestCase {
    static let vaulted = """
        user: admin
        password: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          62313365396662343061393464336163383764373764613633653634306231386433626436623361
        """

    func assertRefused(_ yaml: String, at location: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try YAMLStream(yaml, file: "vars.yml"), file: file, line: line) { error in
            guard let error = error as? ParseError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.location.description, "vars.yml:" + location, file: file, line: line)
            XCTAssertTrue(error.message.contains("Ansible Vault"), error.message, file: file, line: line)
        }
    }

    func testVaultedValuesAreRefusedWhereTheyAreWritten() {
        assertRefused(Self.vaulted, at: "2:11")
        assertRefused("a: [1, !vault x]\n", at: "1:8")
        assertRefused("a: !vault {k: v}\n", at: "1:4")
        assertRefused("$ANSIBLE_VAULT;1.1;AES256\n6231336539\n", at: "1:1")
    }
}
