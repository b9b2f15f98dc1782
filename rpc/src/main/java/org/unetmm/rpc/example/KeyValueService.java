package org.unetmm.rpc.example;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.unetmm.rpc.RpcRequest;
import org.unetmm.rpc.RpcResponse;
import org.unetmm.rpc.RpcServer;

/**
 * A key-value store served over RPC. Values live in direct buffers that never change once stored
 * (a PUT stores a new one), so a GET replies zero-copy straight from the stored value: the NIC
 * reads it as it transmits, and again if it must retransmit, and an overwrite meanwhile cannot
 * disturb it (the old buffer stays reachable from the send until it is acknowledged).
 *
 * <p>Requests: PUT {@code [key length: u16 LE][key][value]} (empty reply); GET {@code [key]} (the
 * value, or application error {@link #NOT_FOUND}); DELETE {@code [key]} (empty reply, or
 * NOT_FOUND). Handlers run on the server's progress thread, one at a time: a plain map will do.
 */
public final class KeyValueService {
    /** Method id: store a value. */
    public static final int PUT = 1;
    /** Method id: read a value. */
    public static final int GET = 2;
    /** Method id: delete a value. */
    public static final int DELETE = 3;
    /** Application error code: no value under the key. */
    public static final int NOT_FOUND = 1;
    /** Application error code: the request is not of the method's form. */
    public static final int BAD_REQUEST = 2;

    private final Map<Key, ByteBuffer> values = new HashMap<>();

    /** A key: its bytes, compared by content. */
    private record Key(byte[] bytes) {
        static Key of(ByteBuffer buffer, int offset, int length) {
            byte[] bytes = new byte[length];
            buffer.get(offset, bytes);
            return new Key(bytes);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    /**
     * Registers PUT, GET and DELETE on {@code server}.
     *
     * @param server the server to register on
     * @return this service
     */
    public KeyValueService serveOn(RpcServer server) {
        server.register(PUT, this::put);
        server.register(GET, this::get);
        server.register(DELETE, this::delete);
        return this;
    }

    /** {@return values stored} */
    public int size() {
        return values.size();
    }

    private void put(RpcRequest request, RpcResponse response) {
        ByteBuffer in = request.buffer();
        int at = request.offset();
        if (request.length() < 2) {
            response.fail(BAD_REQUEST);
            return;
        }
        int keyLength = Short.toUnsignedInt(Short.reverseBytes(in.getShort(at)));
        if (2 + keyLength > request.length()) {
            response.fail(BAD_REQUEST);
            return;
        }
        Key key = Key.of(in, at + 2, keyLength);
        int valueLength = request.length() - 2 - keyLength;
        ByteBuffer value = ByteBuffer.allocateDirect(Math.max(1, valueLength));
        value.put(0, in, at + 2 + keyLength, valueLength);
        values.put(key, valueLength == 0 ? value.limit(0) : value);
        response.send(0);
    }

    private void get(RpcRequest request, RpcResponse response) {
        ByteBuffer value = values.get(Key.of(request.buffer(), request.offset(), request.length()));
        if (value == null) {
            response.fail(NOT_FOUND);
        } else {
            response.send(value, 0, value.limit()); // zero-copy from the stored, never-changing value
        }
    }

    private void delete(RpcRequest request, RpcResponse response) {
        if (values.remove(Key.of(request.buffer(), request.offset(), request.length())) == null) {
            response.fail(NOT_FOUND);
        } else {
            response.send(0);
        }
    }
}
