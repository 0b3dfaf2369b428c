"""Name lists for synthetic people: common in England and Wales across communities.

Only used to make synthetic records readable; any resemblance to real people is chance.
"""

FEMALE = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Florence Emilia "
    "Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sarah Emma Claire Rachel Helen "
    "Nicola Karen Susan Julie Amanda Joanne Lisa Michelle Laura Gemma Hannah Jessica Rebecca Amy "
    "Margaret Patricia Barbara Jean Maureen Christine Janet Linda Carol Sandra Pauline Doreen Joan "
    "Fatima Aisha Maryam Zainab Amina Noor Hafsa Ayesha Priya Anjali Sunita Deepa Kavita Sana Nadia "
    "Chloe Megan Niamh Siobhan Aoife Bronwen Carys Eilidh Morag Shona Abena Ama Chiamaka Ngozi Adaeze "
    "Funmilayo Blessing Grace Precious Yetunde Mei Ling Xiu Wen Agnieszka Katarzyna Magdalena Ioana "
    "Elena Ana Maria Yasmin Leila Mariam"
).split()

MALE = (
    "Muhammad Noah Oliver George Arthur Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie "
    "Thomas James William Joshua Alfie Jacob Daniel David Michael Paul Mark Andrew Richard Stephen "
    "Christopher Matthew Robert John Peter Ian Gary Lee Darren Craig Wayne Kevin Neil Simon Martin "
    "Anthony Brian Keith Colin Derek Raymond Kenneth Dennis Roy Ali Omar Ibrahim Yusuf Hamza Bilal "
    "Imran Tariq Arjun Rohan Vikram Sanjay Rajesh Amit Harpreet Gurpreet Sean Patrick Liam Declan "
    "Callum Rhys Dylan Gareth Owen Ewan Fraser Kwame Kofi Chinedu Emeka Oluwaseun Tunde Femi Jerome "
    "Winston Delroy Wei Jun Hao Piotr Tomasz Krzysztof Andrei Mihai Stefan Luca Marco Samuel Isaac"
).split()

FAMILY = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
    "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner "
    "Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott "
    "Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson "
    "Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams "
    "Singh Begum Ali Ahmed Hussain Rahman Akhtar Shah Kaur Sharma Gill Chowdhury Islam Iqbal Mahmood "
    "Okafor Okoye Adeyemi Mensah Asante Boateng Osei Campbell Francis Grant Henry Reid Stewart "
    "Murray Kennedy Sullivan Byrne Doyle Nowak Kowalski Wisniewski Popescu Ionescu Rossi Chen Wang "
    "Li Zhang Liu Nguyen Tran Hassan Abdi Mohamed Yilmaz Kaya Demir Fernandes Silva Santos Costa"
).split()
