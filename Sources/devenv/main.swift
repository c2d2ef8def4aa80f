import DevEnvCLI

await DevEnvCommand.entry()
