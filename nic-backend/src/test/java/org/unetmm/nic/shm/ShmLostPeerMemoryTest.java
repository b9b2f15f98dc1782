package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.SendPath;

/**
 * The memory of a pair region whose peer is gone goes back to the kernel at once, as
 * {@code /proc/self/smaps} counts it: not when the garbage collector happens to drop the mapping
 * (a long-lived server that clients come to and leave held a pair's rings for each one gone).
 */
@Timeout(60)
class ShmLostPeerMemoryTest {
    /** The resident bytes of this process's mappings of memfds whose name contains {@code pair}. */
    private static long residentBytesOf(String pair) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        long kb = 0;
        boolean in = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.contains("memfd:") && line.contains(pair);
            } else if (in && line.startsWith("Rss:")) {
                kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kb * 1024;
    }

    @Test
    void aPeerThatClosedLeavesNoneOfTheRegionsPagesResident() throws Exception {
        String a = ShmPairInOneJvmTest.fresh("mem-a");
        String b = ShmPairInOneJvmTest.fresh("mem-b");
        String pair = a.compareTo(b) < 0 ? a + "+" + b : b + "+" + a;
        try (Nic na = ShmPairInOneJvmTest.open("shm:" + a)) {
            Nic nb = ShmPairInOneJvmTest.open("shm:" + b);
            try {
                Endpoint ea = na.openEndpoint();
                Endpoint eb = nb.openEndpoint();
                Channel ab = ShmPairInOneJvmTest.connect(ea, eb)[0];
                ByteBuffer from = ByteBuffer.allocateDirect(4096);
                ByteBuffer into = ByteBuffer.allocateDirect(4096);
                for (int i = 0; i < 600; i++) { // 2.4 MB inline through a 1 MiB ring: every page of it touched
                    ShmPairInOneJvmTest.transfer(na, nb, ea, eb, ab, from, into, 4096, SendPath.PINNED, i);
                }
                assertThat(residentBytesOf(pair)).as("the rings, resident while both are there").isGreaterThan(1L << 20);
            } finally {
                nb.close();
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (ShmTransport.of(na).stats().peersLost() == 0 && System.nanoTime() - deadline < 0) {
                na.progress(); // sees the peer's side closed, and loses it
            }
            assertThat(ShmTransport.of(na).stats().peersLost()).isEqualTo(1);
            assertThat(residentBytesOf(pair)).as("resident after the peer is gone, both mappings").isLessThan(64L << 10);
            na.progress(); // and a round after it touches nothing of it again
            assertThat(residentBytesOf(pair)).isLessThan(64L << 10);
        }
    }
}
