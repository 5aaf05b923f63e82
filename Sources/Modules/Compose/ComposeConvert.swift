import Foundation
import Provisioner

/// `provision compose convert`: the units the compose module's `mode: quadlet` would write, from files on
/// this machine (relative paths resolved against the first file's folder).
public enum ComposeConvert {
    public static func convert(_ request: ComposeConversionRequest) throws -> [ComposeConversionOutput] {
        var variables: [String: String] = [:]
        for file in request.envFiles {
            for entry in try DotEnv.parse(file.text, file: file.path, known: variables) { variables[entry.key] = entry.value ?? "" }
        }
        let folder = URL(fileURLWithPath: request.files.first?.path ?? "/").deletingLastPathComponent().path
        let project = try ComposeProject.load(request.files.map { ComposeSource(path: $0.path, text: $0.text) }, variables: variables,
                                              profiles: request.profiles, name: request.projectName, directory: folder)
        let units = try ComposeQuadlet(project: project, user: request.userScope ? "" : nil) { path in
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
        }.units()
        return units.flatMap { unit -> [ComposeConversionOutput] in
            [ComposeConversionOutput(file: unit.file, text: unit.text, secret: false)]
                + (unit.environmentFile.map { [ComposeConversionOutput(file: $0.name, text: $0.text, secret: true)] } ?? [])
        }
    }
}
