package org.unetmm.bench;

import picocli.CommandLine;

/**
 * What {@code unetmm --version} (and every subcommand's) prints: the version and the git commit
 * baked into the jar at build time ({@code build.properties}, the same source as run.json's
 * {@code gitCommit}), so a result can be traced to its code wherever the jar runs.
 */
final class UnetmmVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"unetmm " + RunRecord.buildVersion(), "commit " + RunRecord.gitCommit(),
                "JVM " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")};
    }
}
