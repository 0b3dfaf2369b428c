# Coded records are patient data: deliberately not in the admin (it would bypass access and audit).
