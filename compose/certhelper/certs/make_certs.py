"""Test certificates for CERN_CERTIFICATE_PATH (production: the service account's grid
certificate, which cernrequests presents to CERN's and Run Registry's APIs): a local test CA and
a user certificate and key signed by it, made once into the directory given (a volume the app
mounts read-only). Never a real credential: the CA is made here and trusted nowhere else."""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

directory = sys.argv[1]
if os.path.exists(os.path.join(directory, "usercert.pem")):
    print("test certificates present")
    sys.exit(0)


def name(common):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "ch"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "cern"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "devenv test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


now = datetime.datetime.now(datetime.timezone.utc)
ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ca = (
    x509.CertificateBuilder()
    .subject_name(name("devenv Test CA (not CERN)"))
    .issuer_name(name("devenv Test CA (not CERN)"))
    .public_key(ca_key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(days=365))
    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    .sign(ca_key, hashes.SHA256())
)
user_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
user = (
    x509.CertificateBuilder()
    .subject_name(name("tkdqmdoc"))
    .issuer_name(ca.subject)
    .public_key(user_key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(days=365))
    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    .sign(ca_key, hashes.SHA256())
)
os.makedirs(directory, exist_ok=True)
pem = serialization.Encoding.PEM
with open(os.path.join(directory, "ca.pem"), "wb") as out:
    out.write(ca.public_bytes(pem))
with open(os.path.join(directory, "usercert.pem"), "wb") as out:
    out.write(user.public_bytes(pem))
key_path = os.path.join(directory, "userkey.pem")
with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640), "wb") as out:
    out.write(
        user_key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    )
print(f"test certificates made in {directory}: ca.pem, usercert.pem, userkey.pem")
