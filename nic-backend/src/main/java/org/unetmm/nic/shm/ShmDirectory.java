package org.unetmm.nic.shm;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Where shm NICs find each other: files under {@code /dev/shm}, all mode 0600.
 *
 * <ul>
 *   <li>{@code unetmm-<name>.nic}, a NIC's home, created when it opens, removed when it closes:
 *       who holds the name, and where its page of shared memory is (a {@link SealedMemfd}, so no
 *       truncation can make reading it fault), which holds a generation counter that a NIC which
 *       created a pair's region for it bumps, so a listener that has never routed to its clients
 *       learns of them with one read per progress round (it lists the directory only when the
 *       counter moved).</li>
 *   <li>{@code unetmm-<a>+<b>.pair}, the region of NICs {@code a < b} ({@link ShmRegion}).</li>
 *   <li>{@code unetmm-<name>@<number>.seg}, a fixed segment of NIC {@code name}'s endpoints, which
 *       its peers map ({@link ShmSegment}).</li>
 * </ul>
 *
 * <pre>
 *  home file:   0 long magic 'UNMMNIC3' (last), 8 int pid, 16 long process start time,
 *              24 int the memfd's descriptor in that process
 *  its memfd:  0 to 24 as in the file (checked before a bump), 64 long generation (its own line,
 *              bumped atomically), in one page
 * </pre>
 *
 * A file whose process is gone (killed before it could remove it) is stale: {@link #removeStale}
 * deletes such homes, every pair region one of whose sides is gone and every segment whose owner
 * is gone, when a NIC opens. A
 * process is named by pid and start time ({@link ProcessIdentity}), so a pid the kernel reused
 * for another process does not keep a dead NIC's files. Every file is checked to be this user's
 * and mode 0600 before it is read or removed ({@link ShmRegion#checkOwnership}): NICs of two
 * users cannot share a name or a region, and are told so.
 */
final class ShmDirectory {
    static final Path ROOT = Path.of("/dev/shm");
    static final String PREFIX = "unetmm-";
    static final long HOME_MAGIC = 0x3343_494E_4D4D_4E55L; // "UNMMNIC3"
    static final int HOME_MAGIC_OFFSET = 0;
    static final int HOME_PID_OFFSET = 8;
    static final int HOME_START_TIME_OFFSET = 16;
    static final int HOME_MEMFD_OFFSET = 24;
    private static final int HOME_HEAD_LENGTH = 28;
    static final int HOME_GENERATION_OFFSET = 64;
    static final int HOME_LENGTH = 4096;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private ShmDirectory() {
    }

    static Path home(String name) {
        return ROOT.resolve(PREFIX + name + ".nic");
    }

    static Path pair(String a, String b) {
        return a.compareTo(b) < 0 ? ROOT.resolve(PREFIX + a + "+" + b + ".pair") : ROOT.resolve(PREFIX + b + "+" + a + ".pair");
    }

    /** Which side of the pair {@code me} is: 0 for the smaller name. */
    static int side(String me, String peer) {
        return me.compareTo(peer) < 0 ? 0 : 1;
    }

    /** A NIC's home: its page of shared memory (the generation) and the memfd that holds it, which the NIC closes. */
    record Home(MappedByteBuffer memory, int memfd) {
        void close() {
            SealedMemfd.close(memfd);
        }
    }

    /** Creates {@code name}'s home for this process; a live holder of the name is refused, a dead one's replaced. */
    static Home createHome(String name, ProcessIdentity self) {
        Path path = home(name);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(ShmRegion.OWNER_ONLY));
                int fd = SealedMemfd.create("unetmm-" + name + ".nic", HOME_LENGTH);
                try (FileChannel memory = SealedMemfd.channel(fd, true);
                     FileChannel file = FileChannel.open(path, StandardOpenOption.WRITE)) {
                    MappedByteBuffer home = memory.map(FileChannel.MapMode.READ_WRITE, 0, HOME_LENGTH);
                    home.order(ByteOrder.LITTLE_ENDIAN);
                    home.putInt(HOME_PID_OFFSET, self.pid()).putLong(HOME_START_TIME_OFFSET, self.startTime());
                    home.putLong(HOME_MAGIC_OFFSET, HOME_MAGIC);
                    file.write(ByteBuffer.allocate(HOME_HEAD_LENGTH).order(ByteOrder.LITTLE_ENDIAN)
                            .putInt(HOME_PID_OFFSET, self.pid()).putLong(HOME_START_TIME_OFFSET, self.startTime())
                            .putInt(HOME_MEMFD_OFFSET, fd), 0);
                    file.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, HOME_MAGIC), HOME_MAGIC_OFFSET);
                    return new Home(home, fd);
                } catch (IOException | RuntimeException e) {
                    SealedMemfd.close(fd);
                    delete(path);
                    throw e;
                }
            } catch (FileAlreadyExistsException e) {
                if (!ShmRegion.checkOwnershipIfPresent(path)) {
                    continue; // removed meanwhile: try again
                }
                ProcessIdentity holder = holder(path);
                if (holder.equals(self)) {
                    throw new ShmException("a NIC named shm:" + name + " is already open in this process: choose another name");
                }
                if (holder.alive()) {
                    throw new ShmException("a NIC named shm:" + name + " is already open on this host (pid " + holder.pid()
                            + "): choose another name, or shm: for a fresh one");
                }
                delete(path); // its process is gone (or its pid now names another process): a stale home
            } catch (AccessDeniedException e) {
                throw new ShmException("cannot create " + path + ": " + e.getMessage() + "; /dev/shm must be writable by"
                        + " this user (mode 1777 as usual), or choose another name");
            } catch (IOException e) {
                throw new ShmException("cannot create " + path + ": " + e + "; is /dev/shm a writable tmpfs?");
            }
        }
        throw new ShmException("the shm name " + name + " was taken while this NIC opened: choose another name");
    }

    /**
     * The process holding a home; {@link ProcessIdentity#NONE} if the file is gone, unreadable, not
     * a home (yet: its creator writes the magic last) or a home of another unetmm version.
     */
    static ProcessIdentity holder(Path path) {
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(HOME_HEAD_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            file.read(head, 0);
            return head.position() == HOME_HEAD_LENGTH && head.getLong(HOME_MAGIC_OFFSET) == HOME_MAGIC
                    ? new ProcessIdentity(head.getInt(HOME_PID_OFFSET), head.getLong(HOME_START_TIME_OFFSET))
                    : ProcessIdentity.NONE;
        } catch (IOException e) {
            return ProcessIdentity.NONE;
        }
    }

    /** Tells {@code name}'s NIC that a region for it appeared: bumps the generation in its home's memory. */
    static void announceTo(String name) {
        ByteBuffer head = ByteBuffer.allocate(HOME_HEAD_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel file = FileChannel.open(home(name), StandardOpenOption.READ)) {
            file.read(head, 0);
        } catch (IOException e) {
            return; // the NIC closed meanwhile: its pair region is stale and goes with the next check
        }
        if (head.position() != HOME_HEAD_LENGTH || head.getLong(HOME_MAGIC_OFFSET) != HOME_MAGIC) {
            return;
        }
        try (FileChannel memory = SealedMemfd.openPeer(head.getInt(HOME_PID_OFFSET), head.getInt(HOME_MEMFD_OFFSET), true)) {
            if (memory == null || memory.size() < HOME_LENGTH) {
                return; // gone, or not reachable from here: the listener finds the region when it routes to this NIC
            }
            MappedByteBuffer home = memory.map(FileChannel.MapMode.READ_WRITE, 0, HOME_LENGTH);
            home.order(ByteOrder.LITTLE_ENDIAN);
            if (home.getLong(HOME_MAGIC_OFFSET) != HOME_MAGIC || home.getInt(HOME_PID_OFFSET) != head.getInt(HOME_PID_OFFSET)
                    || home.getLong(HOME_START_TIME_OFFSET) != head.getLong(HOME_START_TIME_OFFSET)) {
                return; // not that NIC's home page: bump nothing in someone else's memory
            }
            LONGS.getAndAdd(home, HOME_GENERATION_OFFSET, 1L);
        } catch (IOException e) {
            // as above
        }
    }

    static long generation(ByteBuffer home) {
        return (long) LONGS.getAcquire(home, HOME_GENERATION_OFFSET);
    }

    /** The names of the NICs that have a pair region with {@code name}. */
    static List<String> peersOf(String name) {
        List<String> peers = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(ROOT, PREFIX + "*.pair")) {
            for (Path p : files) {
                String f = p.getFileName().toString();
                String pair = f.substring(PREFIX.length(), f.length() - ".pair".length());
                int plus = pair.indexOf('+');
                if (plus <= 0) {
                    continue;
                }
                String a = pair.substring(0, plus);
                String b = pair.substring(plus + 1);
                if (a.equals(name)) {
                    peers.add(b);
                } else if (b.equals(name)) {
                    peers.add(a);
                }
            }
        } catch (IOException e) {
            // an unreadable /dev/shm: no peers found this time
        }
        return peers;
    }

    /**
     * Removes homes whose process is gone and pair regions one of whose sides' processes is gone
     * (left by a killed process); returns how many files went. Only this user's files are touched.
     */
    static int removeStale() {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(ROOT, PREFIX + "*")) {
            for (Path p : files) {
                String f = p.getFileName().toString();
                try {
                    ShmRegion.checkOwnership(p);
                } catch (IOException | ShmException e) {
                    continue;
                }
                if (f.endsWith(".nic")) {
                    ProcessIdentity holder = holder(p);
                    if (holder.pid() > 0 && !holder.alive()) {
                        removed += delete(p);
                    }
                } else if (f.endsWith(ShmSegment.SUFFIX)) {
                    removed += ShmSegment.removeIfDead(p);
                } else if (f.endsWith(".pair")) {
                    ProcessIdentity[] sides = ShmRegion.sides(p);
                    if (sides != null && (gone(sides[0]) || gone(sides[1]) || gone(sides[2]))) { // the creator holds the memory
                        removed += delete(p);
                    }
                }
            }
        } catch (IOException e) {
            // nothing to clean, or /dev/shm unreadable
        }
        return removed;
    }

    /** A side that was filled in (pid written) and whose process is gone. */
    private static boolean gone(ProcessIdentity side) {
        return side.pid() > 0 && !side.alive();
    }

    static int delete(Path p) {
        try {
            return Files.deleteIfExists(p) ? 1 : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
