package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.unetmm.Endpoint;
import org.unetmm.Nic;

/**
 * Files left by a killed process are found stale by (pid, start time), not by pid alone: the
 * kernel reuses pids, so a home or region naming a pid that now belongs to another process (here:
 * this JVM's pid with a start time it did not start at) is removed when a NIC opens, and one
 * naming this JVM as it really is stays.
 */
class ShmStaleFilesTest {
    private static final ProcessIdentity SELF = ProcessIdentity.self();
    /** This JVM's pid, as a process started 1 tick after boot would have had it: the pid reused. */
    private static final ProcessIdentity REUSED = new ProcessIdentity(SELF.pid(), 1);
    private final String name = ShmPairInOneJvmTest.fresh("stale");
    private final String other = ShmPairInOneJvmTest.fresh("stale-peer");

    @AfterEach
    void removeWhatTheTestMade() {
        ShmDirectory.delete(ShmDirectory.home(name));
        ShmDirectory.delete(ShmDirectory.home(other));
        ShmDirectory.delete(ShmDirectory.pair(name, other));
    }

    static void writeHome(Path path, ProcessIdentity holder) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(ShmDirectory.HOME_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(ShmDirectory.HOME_MAGIC_OFFSET, ShmDirectory.HOME_MAGIC);
        head.putInt(ShmDirectory.HOME_PID_OFFSET, holder.pid());
        head.putLong(ShmDirectory.HOME_START_TIME_OFFSET, holder.startTime());
        write(path, head);
    }

    static void writeRegionHead(Path path, ProcessIdentity side0, ProcessIdentity side1) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(ShmRegion.RINGS_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(ShmRegion.MAGIC_OFFSET, ShmRegion.MAGIC);
        head.putInt(ShmRegion.VERSION_OFFSET, ShmRegion.VERSION);
        ProcessIdentity[] sides = {side0, side1};
        for (int s = 0; s < 2; s++) {
            int at = ShmRegion.SIDE_OFFSET + s * ShmRegion.SIDE_LENGTH;
            head.putInt(at + ShmRegion.SIDE_PID_OFFSET, sides[s].pid());
            head.putLong(at + ShmRegion.SIDE_START_TIME_OFFSET, sides[s].startTime());
        }
        write(path, head);
    }

    private static void write(Path path, ByteBuffer bytes) throws IOException {
        Files.createFile(path, PosixFilePermissions.asFileAttribute(ShmRegion.OWNER_ONLY));
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.WRITE)) {
            file.write(bytes, 0);
        }
    }

    @Test
    void anAnnouncementBumpsARealHomesGenerationAndNothingInAForgedHomesMemory() throws IOException {
        ShmDirectory.Home real = ShmDirectory.createHome(name, SELF);
        int fd = SealedMemfd.create("not-a-home", ShmDirectory.HOME_LENGTH);
        try (FileChannel notAHome = SealedMemfd.channel(fd, true)) {
            ShmDirectory.announceTo(name);
            assertThat(ShmDirectory.generation(real.memory())).as("the real home's generation").isEqualTo(1);

            ByteBuffer pattern = ByteBuffer.allocate(ShmDirectory.HOME_LENGTH);
            for (int i = 0; i < pattern.capacity(); i++) {
                pattern.put(i, (byte) (i * 31 + 7));
            }
            notAHome.write(pattern.duplicate(), 0);
            ByteBuffer forged = ByteBuffer.allocate(ShmDirectory.HOME_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            forged.putLong(ShmDirectory.HOME_MAGIC_OFFSET, ShmDirectory.HOME_MAGIC);
            forged.putInt(ShmDirectory.HOME_PID_OFFSET, SELF.pid());
            forged.putLong(ShmDirectory.HOME_START_TIME_OFFSET, SELF.startTime());
            forged.putInt(ShmDirectory.HOME_MEMFD_OFFSET, fd); // a sealed memfd of a live process, not a home
            write(ShmDirectory.home(other), forged);
            ShmDirectory.announceTo(other);
            ByteBuffer after = ByteBuffer.allocate(ShmDirectory.HOME_LENGTH);
            notAHome.read(after, 0);
            assertThat(after.flip()).as("the memfd a forged home names is left as it was").isEqualTo(pattern);
        } finally {
            SealedMemfd.close(fd);
            real.close();
        }
    }

    @Test
    void thisProcessIsKnownByItsPidAndTheStartTimeInProcStat() {
        assertThat(SELF.pid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(SELF.startTime()).as("field 22 of /proc/self/stat").isGreaterThan(1);
        assertThat(SELF.alive()).isTrue();
        assertThat(REUSED.alive()).as("a live pid with another start time is another process").isFalse();
        assertThat(ProcessIdentity.startTime(Integer.MAX_VALUE)).as("no such pid").isEqualTo(-1);
    }

    @Test
    void aHomeNamingALivePidWithAnotherStartTimeIsStaleAndRemoved() throws IOException {
        Path home = ShmDirectory.home(name);
        writeHome(home, REUSED);
        assertThat(ShmDirectory.removeStale()).isPositive();
        assertThat(home).as("its pid lives, but not the process that wrote it").doesNotExist();
    }

    @Test
    void aHomeNamingThisProcessAsItIsStays() throws IOException {
        Path home = ShmDirectory.home(name);
        writeHome(home, SELF);
        ShmDirectory.removeStale();
        assertThat(home).as("held by a live process").exists();
    }

    @Test
    void aRegionOneOfWhoseSidesIsAReusedPidIsRemovedAndALiveOneStays() throws IOException {
        Path pair = ShmDirectory.pair(name, other);
        writeRegionHead(pair, SELF, REUSED);
        ShmDirectory.removeStale();
        assertThat(pair).as("side 1's process is gone though its pid lives").doesNotExist();

        writeRegionHead(pair, SELF, SELF);
        ShmDirectory.removeStale();
        assertThat(pair).as("both sides live").exists();
        writeRegionHead(ShmDirectory.pair(name, other + "x"), SELF, ProcessIdentity.NONE);
        try {
            ShmDirectory.removeStale();
            assertThat(ShmDirectory.pair(name, other + "x")).as("a side not filled in yet is not a dead one").exists();
        } finally {
            ShmDirectory.delete(ShmDirectory.pair(name, other + "x"));
        }
    }

    @Test
    void aNicOpensOnANameWhoseHomeNamesAReusedPidAndRefusesOneHeldForReal() throws IOException {
        writeHome(ShmDirectory.home(name), REUSED);
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + name)) {
            assertThat(ShmDirectory.holder(ShmDirectory.home(name))).as("the new home names this process as it is")
                    .isEqualTo(SELF);
            assertThatThrownBy(() -> ShmPairInOneJvmTest.open("shm:" + name)).isInstanceOf(ShmException.class)
                    .hasMessageContaining("already open in this process");
        }
    }

    @Test
    void aChannelToANameWhoseHomeNamesAReusedPidIsToldTheNicIsGone() throws IOException {
        try (Nic nic = ShmPairInOneJvmTest.open("shm:" + name)) {
            writeHome(ShmDirectory.home(other), REUSED); // after the open, whose stale check would have removed it
            Endpoint endpoint = nic.openEndpoint();
            assertThatThrownBy(() -> endpoint.openChannel().connect(org.unetmm.ChannelAddress.parse("shm:" + other + "/1")))
                    .hasMessageContaining("no NIC named shm:" + other)
                    .hasMessageContaining("its process " + SELF.pid() + " is gone");
            assertThat(ShmDirectory.pair(name, other)).as("no region made for a dead NIC").doesNotExist();
        }
    }
}
