// Test helper: one of two processes writing the same state store at once.
// usage: statestore-writer PATH WRITER COUNT
// Writes COUNT new secrets and COUNT updates of one, asks for one shared secret, prints its value.
import Foundation
import StateStore

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: statestore-writer PATH WRITER COUNT\n".utf8))
    exit(2)
}
let (path, writer) = (arguments[1], arguments[2])
do {
    let store = try StateStore(path: path)
    var shared = ""
    for index in 0..<count {
        _ = try store.secret(project: "race", key: "\(writer)-\(index)") { StateStore.generateSecret() }
        try store.setSecret(project: "race-\(writer)", key: "index", value: "\(index)")
        if index == count / 2 {
            shared = try store.secret(project: "race", key: "shared") { "from-\(writer)" }
        }
    }
    print(shared)
} catch {
    FileHandle.standardError.write(Data("statestore-writer \(writer): \(error)\n".utf8))
    exit(1)
}
