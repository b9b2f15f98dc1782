package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.ChannelAddress;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.pinning.UnprivilegedJvm;

/**
 * The shm wire between users, with real processes of uid 65534 (no CAP_IPC_LOCK, RLIMIT_MEMLOCK
 * 8 MiB; {@link ShmAsNobodyChild}): NICs of two users cannot share a name or a region, and each is
 * told so in one typed error naming the owner, the mode and the fix; two NICs of uid 65534 echo
 * every size byte-exact, by cross-memory attach and, with {@code cma=false}, inline in pieces,
 * within the memlock limit.
 */
@Timeout(300)
class ShmAsAnotherUserTest {
    private static final long MEMLOCK = 8L << 20;
    private static final int ROOT = 0;

    @Test
    void aNicOfUid65534IsRefusedRootsNameAndRootsNicNamingOwnerModeAndFix() throws Exception {
        String name = ShmPairInOneJvmTest.fresh("root");
        try (UnprivilegedJvm jvm = UnprivilegedJvm.prepare(); Nic nic = ShmPairInOneJvmTest.open("shm:" + name)) {
            for (String mode : new String[] {"open", "route"}) {
                UnprivilegedJvm.ChildRun run = jvm.run(MEMLOCK, 60, ShmAsNobodyChild.class.getName(), mode, name);
                assertThat(run.exitCode()).as("%s as uid 65534: exit status; its output:%n%s", mode, run.output())
                        .isEqualTo(ShmAsNobodyChild.REFUSED);
                assertThat(refusal(run)).as(mode).contains(
                        "the shm file " + ShmDirectory.home(name) + " is owned by uid " + ROOT + " with mode rw-------",
                        "this NIC runs as uid " + UnprivilegedJvm.NOBODY,
                        "NICs of different users cannot share a name or a region",
                        "run both ends as uid " + ROOT + ", or choose another name");
            }
            assertThat(ShmTransport.of(nic).stats().peers()).as("root's NIC gained no peer").isZero();
            assertThat(ShmDirectory.peersOf(name)).as("no region was made").isEmpty();
        }
    }

    @Test
    void rootsNicRefusesTheNameAndTheHomeOfANicOfUid65534NamingOwnerModeAndFix() throws Exception {
        String name = ShmPairInOneJvmTest.fresh("nobody");
        String mine = ShmPairInOneJvmTest.fresh("root");
        Path home = ShmDirectory.home(name);
        try (UnprivilegedJvm jvm = UnprivilegedJvm.prepare()) {
            Path release = jvm.writableDir("release").resolve("now");
            CompletableFuture<UnprivilegedJvm.ChildRun> child = CompletableFuture.supplyAsync(() -> {
                try {
                    return jvm.run(MEMLOCK, 90, ShmAsNobodyChild.class.getName(), "hold", name, release.toString(), "80");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!ShmDirectory.holder(home).alive()) {
                    assertThat(child).as("the child ends only when released").isNotDone();
                    assertThat(System.nanoTime() - deadline).as("uid 65534's NIC opened within 60 s").isNegative();
                    Thread.onSpinWait();
                }
                assertThat(Files.getAttribute(home, "unix:uid")).isEqualTo(UnprivilegedJvm.NOBODY);
                String owner = "the shm file " + home + " is owned by uid " + UnprivilegedJvm.NOBODY + " with mode rw-------";
                String fix = "run both ends as uid " + UnprivilegedJvm.NOBODY + ", or choose another name";
                try (Nic nic = ShmPairInOneJvmTest.open("shm:" + mine)) {
                    Endpoint endpoint = nic.openEndpoint();
                    assertThatThrownBy(() -> endpoint.openChannel().connect(ChannelAddress.parse("shm:" + name + "/1")))
                            .isInstanceOf(ShmException.class)
                            .hasMessageContaining(owner).hasMessageContaining("this NIC runs as uid " + ROOT)
                            .hasMessageContaining(fix);
                    assertThat(ShmDirectory.pair(mine, name)).as("no region made for another user's NIC").doesNotExist();
                }
                assertThatThrownBy(() -> ShmPairInOneJvmTest.open("shm:" + name)).isInstanceOf(ShmException.class)
                        .hasMessageContaining(owner).hasMessageContaining(fix);
                assertThat(home).as("root's NIC left uid 65534's home alone").exists();
            } finally {
                Files.writeString(release, "go");
            }
            UnprivilegedJvm.ChildRun run = child.get(120, TimeUnit.SECONDS);
            assertThat(run.exitCode()).as("the holder's exit; its output:%n%s", run.output()).isZero();
            assertThat(run.output()).contains("RESULT OK held shm:" + name + " peers=0");
        } finally {
            ShmDirectory.delete(home); // only if the child could not close its NIC
        }
        assertThat(home).as("the child removed its home when it closed").doesNotExist();
    }

    @Test
    void rootsNicRefusesARegionOwnedByUid65534() throws Exception {
        String a = ShmPairInOneJvmTest.fresh("root-a");
        String b = ShmPairInOneJvmTest.fresh("root-b");
        Path pair = ShmDirectory.pair(a, b);
        try (Nic na = ShmPairInOneJvmTest.open("shm:" + a); Nic nb = ShmPairInOneJvmTest.open("shm:" + b)) {
            Files.createFile(pair, PosixFilePermissions.asFileAttribute(ShmRegion.OWNER_ONLY));
            Files.setAttribute(pair, "unix:uid", UnprivilegedJvm.NOBODY);
            Endpoint endpoint = na.openEndpoint();
            assertThatThrownBy(() -> endpoint.openChannel().connect(ChannelAddress.parse("shm:" + b + "/1")))
                    .isInstanceOf(ShmException.class)
                    .hasMessageContaining("the shm file " + pair + " is owned by uid " + UnprivilegedJvm.NOBODY
                            + " with mode rw-------")
                    .hasMessageContaining("run both ends as uid " + UnprivilegedJvm.NOBODY);
            ShmDirectory.removeStale();
            assertThat(pair).as("another user's file is never removed").exists();
        } finally {
            Files.deleteIfExists(pair);
        }
    }

    @Test
    void twoNicsOfUid65534Under8MiBEchoEverySizeByteExactByCrossMemoryAttach() throws Exception {
        String result = echo(true);
        assertThat(result).contains("cma=true path=rendezvous");
        assertThat(count(result, "rendezvousSent")).as("large fragments went by rendezvous: " + result).isPositive();
        assertThat(count(result, "rendezvousCompleted")).isEqualTo(count(result, "rendezvousSent"));
        assertThat(count(result, "rendezvousRead")).as("the peer's echoes were read from its memory").isPositive();
        assertThat(result).contains("test process_vm_readv of this process's own memory read 8 bytes");
    }

    @Test
    void twoNicsOfUid65534Under8MiBEchoEverySizeByteExactInlineWithCmaFalse() throws Exception {
        String result = echo(false);
        assertThat(result).contains("cma=false path=inline", "probe=[cma=false in the transport URI");
        assertThat(count(result, "rendezvousSent")).as(result).isZero();
        assertThat(count(result, "rendezvousRead")).as(result).isZero();
        // every message but the empty one, in fragments of at most the mtu, both ways and both paths
        assertThat(count(result, "inlineSent")).as("large messages went inline in pieces: " + result)
                .isGreaterThan(2L * ShmAsNobodyChild.SIZES[ShmAsNobodyChild.SIZES.length - 1] / count(result, "mtu"));
        assertThat(count(result, "inlineReceived")).isEqualTo(count(result, "inlineSent"));
    }

    private static String echo(boolean cma) throws Exception {
        try (UnprivilegedJvm jvm = UnprivilegedJvm.prepare()) {
            UnprivilegedJvm.ChildRun run = jvm.run(MEMLOCK, 200, ShmAsNobodyChild.class.getName(), "echo",
                    Boolean.toString(cma), Integer.toString(ShmAsNobodyChild.MAX_MESSAGE), Long.toString(MEMLOCK));
            assertThat(run.exitCode()).as("child exit code; its output:%n%s", run.output()).isZero();
            String result = run.output().lines().filter(line -> line.startsWith("RESULT OK echo "))
                    .findFirst().orElseThrow(() -> new AssertionError("no RESULT OK line in:\n" + run.output()));
            System.out.println("ShmAsAnotherUserTest child: " + result);
            assertThat(count(result, "vmLckPeak")).as("VmLck of the first uid 65534 JVM").isPositive().isLessThanOrEqualTo(MEMLOCK);
            assertThat(count(result, "peerVmLckPeak")).as("VmLck of the second").isPositive().isLessThanOrEqualTo(MEMLOCK);
            return result;
        }
    }

    private static String refusal(UnprivilegedJvm.ChildRun run) {
        return run.output().lines().filter(line -> line.startsWith("REFUSED ")).findFirst()
                .orElseThrow(() -> new AssertionError("no REFUSED line in:\n" + run.output()));
    }

    private static long count(String result, String key) {
        for (String field : result.split(" ")) {
            if (field.startsWith(key + "=")) {
                return Long.parseLong(field.substring(key.length() + 1));
            }
        }
        throw new AssertionError("no " + key + "= in " + result);
    }
}
